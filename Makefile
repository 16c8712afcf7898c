# Thin wrapper around scripts/odoo-dev (see README.rst).
.PHONY: run test bench lint setup
run:
	scripts/odoo-dev run
test:
	scripts/odoo-dev test
bench:
	scripts/odoo-dev bench
lint:
	scripts/odoo-dev lint
setup:
	scripts/odoo-dev setup
