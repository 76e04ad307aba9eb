"""`python -m bot …`: the staff and operator commands, with the environment over .env like every entry point."""
from bot.settings_env import load_dotenv

load_dotenv()

from bot.cli import main  # noqa: E402  (after .env: settings are read once)

raise SystemExit(main())
