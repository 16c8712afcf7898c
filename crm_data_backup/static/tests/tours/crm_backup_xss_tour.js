/** @odoo-module **/
import {registry} from "@web/core/registry";

// Script stored in a contact's name, a restore plan, an uploaded file name and
// an audit entry is shown as text and never runs (it would set window.crmXss).
function noScriptRan() {
    if (window.crmXss) {
        throw new Error("A stored value ran as script");
    }
}

registry.category("web_tour.tours").add("crm_backup_xss_tour", {
    steps: () => [
        {
            content: "The plan shows the contact's name as text",
            trigger: '.o_crm_restore_samples td:contains("onerror=")',
            run: noScriptRan,
        },
        {
            content: "The uploaded file's field is rendered (its name holds script)",
            trigger: '.o_field_widget[name="upload_file"]',
            run: noScriptRan,
        },
        {
            content: "Open the audit log",
            trigger: "body",
            run: "goToUrl /odoo/action-crm_data_backup.crm_backup_audit_action",
        },
        {
            content: "Audit details are shown as text",
            trigger: '.o_crm_audit_details:contains("onerror=")',
            run: noScriptRan,
        },
        {
            content: "Open the entry",
            trigger: '.o_data_row:has(.o_crm_audit_details:contains("onerror=")) td.o_data_cell',
            run: "click",
        },
        {
            content: "Its form shows the details as text too",
            trigger: '.o_form_view .o_field_widget[name="details"]:contains("onerror=")',
            run: noScriptRan,
        },
    ],
});
