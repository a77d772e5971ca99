"""`python -m hellbender` and `accelerate launch -m hellbender train cfg.yml`."""

from hellbender.cli import main

main()
