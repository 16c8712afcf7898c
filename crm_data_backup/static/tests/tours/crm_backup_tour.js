/** @odoo-module **/
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_backup_create_tour", {
    steps: () => [
        {
            content: "The list warns that backups hold every value",
            trigger: ".o_crm_backup_warning:contains(sensitive)",
        },
        {
            content: "Open the confirmation dialog",
            trigger: "button.o_crm_backup_create",
            run: "click",
        },
        {
            content: "The dialog warns about sensitive values",
            trigger: ".modal .alert-warning:contains(sensitive)",
        },
        {
            content: "Confirm",
            trigger: ".modal button.o_crm_backup_confirm",
            run: "click",
        },
        {
            content: "The dialog closes and the backup is listed as queued",
            trigger: "body:not(:has(.modal)) .o_data_row td[name=state]:contains(Queued)",
        },
    ],
});

registry.category("web_tour.tours").add("crm_backup_download_tour", {
    steps: () => [
        {
            content: "The finished backup is listed as done",
            trigger: ".o_data_row td[name=state]:contains(Done)",
        },
        {
            content: "with a download button",
            trigger: ".o_data_row button.o_crm_backup_download",
        },
        {
            content: "The form shows the files and the warning",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "Download link in the form",
            trigger: ".o_form_view button.o_crm_backup_download",
        },
        {
            trigger: ".o_form_view .alert-warning:contains(sensitive)",
        },
    ],
});
