/** @odoo-module **/
import {registry} from "@web/core/registry";

// The whole restore wizard, then the identity check as users answer it: a
// wrong password (or two-factor code) first, then the right one. The test puts
// both in sessionStorage before starting the tour.
const secretInput = (filter = "") =>
    ["totp_code", "password"]
        .map((name) => `.modal .o_field_widget[name="${name}"] input${filter}`)
        .join(", ");

registry.category("web_tour.tours").add("crm_restore_tour", {
    steps: () => [
        {
            content: "The restore list opens on completed restores",
            trigger: '.o_searchview .o_facet_value:contains("Completed restores")',
        },
        {
            content: "Start a new restore",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the backup",
            trigger: '.o_field_widget[name="backup_id"] input',
            run: "edit Tour backup",
        },
        {
            trigger: '.o-autocomplete--dropdown-item:contains("Tour backup")',
            run: "click",
        },
        {
            content: "Choose the object",
            trigger: '.o_field_widget[name="object_id"] input',
            run: "edit Contacts",
        },
        {
            trigger: '.o-autocomplete--dropdown-item:contains("Contacts")',
            run: "click",
        },
        {
            content: "Choose the field",
            trigger: '.o_field_widget[name="field_ids"] input',
            run: "edit Phone",
        },
        {
            trigger: '.o-autocomplete--dropdown-item:contains("Phone")',
            run: "click",
        },
        {
            content: "Automations are off during restores: the form says so",
            trigger: '.alert-warning:contains("Automated actions do not run")',
        },
        {
            content: "Review the plan",
            trigger: "button.o_crm_restore_plan",
            run: "click",
        },
        {
            content: "The plan shows the value that comes back",
            trigger: '.o_crm_restore_samples td:contains("+33 1 11 11")',
        },
        {
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("Planned")',
        },
        {
            content: "Confirm overwriting",
            trigger: '.o_field_widget[name="confirm_overwrite"] input',
            run: "click",
        },
        {
            content: "Confirm the review",
            trigger: '.o_field_widget[name="confirm_reviewed"] input',
            run: "click",
        },
        {
            content: "Restore",
            trigger: "button.o_crm_restore_run",
            run: "click",
        },
        {
            content: "Type a wrong password or code",
            trigger: secretInput(),
            async run(helpers) {
                await helpers.edit(sessionStorage.getItem("crm_restore_wrong"));
            },
        },
        {
            trigger: ".modal button.o_crm_restore_auth_confirm",
            run: "click",
        },
        {
            content: "The check failed: the wizard opens again and says why",
            // (buttons are disabled until the button's action is done)
            trigger: ".modal:has(.alert-danger) button.o_crm_restore_auth_confirm:enabled",
        },
        {
            trigger: '.modal .alert-danger:contains("Wrong")',
        },
        {
            content: "The typed value is gone",
            trigger: secretInput(":value(/^$/)"),
        },
        {
            content: "Type the right password or code",
            trigger: secretInput(),
            async run(helpers) {
                await helpers.edit(sessionStorage.getItem("crm_restore_secret"));
            },
        },
        {
            trigger: ".modal button.o_crm_restore_auth_confirm",
            run: "click",
        },
        {
            content: "The restore is queued",
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("Queued")',
        },
        {
            trigger: 'body:not(:has(.modal))',
        },
    ],
});
