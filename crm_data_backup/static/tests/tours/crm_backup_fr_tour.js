/** @odoo-module **/
import {registry} from "@web/core/registry";

// The user is French: menus, buttons, the list's warning (a QWeb template), the dialog
// and the state of a new backup are in French.
registry.category("web_tour.tours").add("crm_data_backup_fr_tour", {
    steps: () => [
        {
            content: "Open the Data Management menu of Settings, in French",
            trigger:
                'button[data-menu-xmlid="crm_data_backup.menu_data_management"]:contains("Gestion des données")',
            run: "click",
        },
        {
            content: "The Audit log entry is in French",
            trigger: 'a[data-menu-xmlid="crm_data_backup.menu_crm_backup_audit"]:contains("Journal d\'audit")',
        },
        {
            content: "Open Backup",
            trigger: 'a[data-menu-xmlid="crm_data_backup.menu_crm_backup"]:contains("Sauvegarde")',
            run: "click",
        },
        {
            content: "The breadcrumb says Sauvegardes",
            trigger: '.o_breadcrumb:contains("Sauvegardes")',
        },
        {
            content: "The list's warning (JavaScript template) is in French",
            trigger: '.o_crm_backup_warning:contains("y compris les plus sensibles")',
        },
        {
            content: "The create button is in French",
            trigger: 'button.o_crm_backup_create:contains("Créer une sauvegarde")',
            run: "click",
        },
        {
            content: "The dialog warns in French",
            trigger: '.modal .alert-warning:contains("Conservez le fichier en lieu sûr")',
        },
        {
            content: "Confirm",
            trigger: '.modal button.o_crm_backup_confirm:contains("Créer une sauvegarde")',
            run: "click",
        },
        {
            content: "The new backup is listed as queued, in French",
            trigger:
                'body:not(:has(.modal)) .o_data_row td[name=state]:contains("En file d\'attente")',
        },
    ],
});
