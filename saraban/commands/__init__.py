"""Command groups of the `saraban` CLI, one module per area; each registers its commands on
`saraban.cli.app` when imported (saraban/cli.py imports them all)."""
