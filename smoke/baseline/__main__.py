import sys

from smoke.baseline.cli import main

sys.exit(main())
