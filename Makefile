# Thin wrapper around scripts/odoo-dev (see README.rst).
.PHONY: run test stress bench lint setup
run:
	scripts/odoo-dev run
test:
	scripts/odoo-dev test
# the race tests only, each race repeated 50 times (20 in `make test`)
stress:
	CRM_BACKUP_RACE_ROUNDS=50 scripts/odoo-dev test -k "test_concurrency or test_restore_race"
bench:
	scripts/odoo-dev bench
lint:
	scripts/odoo-dev lint
setup:
	scripts/odoo-dev setup
# pot exported by Odoo and merged into fr.po; lists the terms left to translate
.PHONY: i18n
i18n:
	scripts/i18n-update
