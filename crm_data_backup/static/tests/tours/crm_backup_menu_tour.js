/** @odoo-module **/
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_data_backup_menu_tour", {
    steps: () => [
        {
            content: "Open the Data Management menu of Settings",
            trigger: 'button[data-menu-xmlid="crm_data_backup.menu_data_management"]',
            run: "click",
        },
        {
            content: "Open Backup",
            trigger: 'a[data-menu-xmlid="crm_data_backup.menu_crm_backup"]',
            run: "click",
        },
        {
            content: "The backups screen offers to create a backup",
            trigger: '.o_list_view button[name="action_open_create_wizard"]',
        },
        {
            content: "The breadcrumb says Backups",
            trigger: '.o_breadcrumb:contains("Backups")',
        },
    ],
});
