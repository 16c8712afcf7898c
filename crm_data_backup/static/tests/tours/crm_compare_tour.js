/** @odoo-module **/
import {registry} from "@web/core/registry";

// A comparison shows its lines; "Restore from this comparison" opens the
// restore form pre-filled with the older backup, the object and its changed field.
registry.category("web_tour.tours").add("crm_compare_tour", {
    steps: () => [
        {
            content: "The comparison lists the companies, one changed",
            trigger:
                '.o_field_widget[name="line_ids"] .o_data_row:has(td[name="object_id"]:contains("Companies")) td[name="changed_count"]:contains("1")',
        },
        {
            content: "Restore from this comparison",
            trigger:
                '.o_field_widget[name="line_ids"] .o_data_row:has(td[name="object_id"]:contains("Companies")) button[name="action_restore"]',
            run: "click",
        },
        {
            content: "The restore form is pre-filled: the older backup",
            trigger:
                '.o_form_view .o_field_widget[name="backup_id"] input:value("Tour compare older")',
        },
        {
            content: "The object compared",
            trigger:
                '.o_form_view .o_field_widget[name="object_id"] input:value("Companies")',
        },
        {
            content: "The changed field only",
            trigger:
                '.o_form_view .o_field_widget[name="field_ids"] .o_tag:contains("City")',
        },
    ],
});
