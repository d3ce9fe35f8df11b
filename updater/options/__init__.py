"""The options of `updater bump` and `updater rebase`: one table (`table`) and what is built from it —
argparse flags (`flags`), `.updater.yml` keys and their JSON Schema (`schema`), the CI inputs check
(`inputs`), and precedence resolved once into a frozen request (`resolve`, `request`)."""
