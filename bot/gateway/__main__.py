"""`python -m bot.gateway`: run the gateway (port GATEWAY_PORT, default 8000)."""
from bot.gateway.app import main

main()
