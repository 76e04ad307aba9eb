"""`python -m bot.gateway`: run the gateway (port GATEWAY_PORT, default 8000).

Settings come from the environment, then .env; it will not start on a database that is not
migrated (one line on stderr, exit 2) rather than fail every customer later.
"""
from bot.startup import exit_unless_migrated

exit_unless_migrated("gateway")

from bot.gateway.app import main  # noqa: E402  (nothing of the gateway loads before the check)

main()
