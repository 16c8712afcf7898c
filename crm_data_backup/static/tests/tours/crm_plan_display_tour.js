/** @odoo-module **/
import {registry} from "@web/core/registry";

// The plan of a deals restore shows labels and amounts as users read them,
// deleted deals by name; audit entries are named by their action's label and
// backup sizes read as 19.7 kB.
function noRawValue() {
    const cells = [...document.querySelectorAll(".o_crm_restore_samples td")];
    const raw = cells
        .map((td) => td.textContent.trim())
        .filter((text) => ["0", "3", "5.0", "99999.0"].includes(text));
    if (raw.length) {
        throw new Error(`Raw values in the plan: ${raw.join(", ")}`);
    }
}

registry.category("web_tour.tours").add("crm_plan_display_tour", {
    steps: () => [
        {
            content: "The priority reads as its label",
            trigger: '.o_crm_restore_samples tr:has(td:contains("Priority")) td:contains("Very High")',
        },
        {
            content: "The amount reads with its currency and grouping",
            trigger: '.o_crm_restore_samples tr:has(td:contains("Expected Revenue")) td:contains("99,999.00")',
            run: noRawValue,
        },
        {
            content: "The deleted deal is listed by its name",
            trigger: '.o_crm_restore_deleted span:contains("Deleted Deal Zeta")',
        },
        {
            content: "Open the audit log",
            trigger: "body",
            run: "goToUrl /odoo/action-crm_data_backup.crm_backup_audit_action",
        },
        {
            content: "Open the plan's entry",
            trigger: '.o_data_row td[name="action"]:contains("Restore planned")',
            run: "click",
        },
        {
            content: "The breadcrumb names the entry by its action's label",
            trigger: '.o_breadcrumb .active:contains("Restore planned")',
        },
        {
            content: "Open the backups",
            trigger: "body",
            run: "goToUrl /odoo/action-crm_data_backup.crm_backup_action",
        },
        {
            content: "A backup's size reads in kB, one decimal",
            trigger: '.o_data_row:has(td:contains("Sized backup")) td[name="file_size"]:contains("19.7 kB")',
        },
    ],
});
