import sys

from smoke.ticket.cli import main

sys.exit(main())
