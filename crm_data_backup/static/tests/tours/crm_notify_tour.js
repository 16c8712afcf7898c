/** @odoo-module **/
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_backup_next_hint_tour", {
    steps: () => [
        {
            content: "The list tells when the next backup is possible",
            trigger: ".o_crm_backup_next_hint:contains(Next backup possible after)",
        },
        {
            content: "Create backup",
            trigger: "button.o_crm_backup_create",
            run: "click",
        },
        {
            content: "The limit is told instead of opening the dialog",
            trigger:
                ".modal:not(:has(.o_crm_backup_confirm)) .modal-body:contains(next backup can be requested)",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Back on the list, the hint still shown",
            trigger: "body:not(:has(.modal)) .o_crm_backup_next_hint",
        },
    ],
});

registry.category("web_tour.tours").add("crm_restore_default_filter_tour", {
    steps: () => [
        {
            content: "A planned restore is listed under the default filters",
            trigger: ".o_data_row:has(td[name=state]:contains(Planned)) td[name=name]:contains(Data Restore - Contact - )",
        },
        {
            content: "and a draft one too",
            trigger: ".o_data_row td[name=state]:contains(Draft)",
        },
    ],
});
