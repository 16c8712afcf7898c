/** @odoo-module **/
import {registry} from "@web/core/registry";
import {rpc} from "@web/core/network/rpc";

// Screens that follow a job without being reloaded. The job is run by a call
// of the page's own (as the background job would), never through the view.
function call(model, method, args) {
    return rpc(`/web/dataset/call_kw/${model}/${method}`, {
        model,
        method,
        args,
        kwargs: {},
    });
}

// Tests never commit, so the database never wakes the bus (its NOTIFY is
// sent after a commit): ask the bus to fetch what was sent, as it does when
// it subscribes. The message itself, and what the views do with it, are real.
function fetchBusMessages() {
    odoo.__WOWL_DEBUG__.root.env.services.bus_service.forceUpdateChannels();
}

const current = (label) => `.o_statusbar_status .o_arrow_button_current:contains(${label})`;

registry.category("web_tour.tours").add("crm_live_backup_tour", {
    steps: () => [
        {
            content: "The backup waits for the background job",
            trigger: ".o_data_row td[name=state]:contains(Queued)",
        },
        {
            content: "The background job makes it",
            trigger: ".o_data_row td[name=state]:contains(Queued)",
            run: async () => {
                const ids = await call("crm.backup", "search", [[["state", "=", "queued"]]]);
                await call("crm.backup", "action_run", [ids]);
                fetchBusMessages();
            },
        },
        {
            content: "The list shows it done, without a reload",
            trigger: ".o_data_row td[name=state]:contains(Done)",
        },
        {
            trigger: ".o_data_row button.o_crm_backup_download",
        },
    ],
});

registry.category("web_tour.tours").add("crm_live_restore_tour", {
    steps: () => [
        {
            content: "The restore is queued",
            trigger: current("Queued"),
        },
        {
            trigger: '.alert-info:contains("runs in the background")',
        },
        {
            content: "The background job runs it",
            trigger: '.alert-info:contains("runs in the background")',
            run: async () => {
                const crons = await call("ir.cron", "search", [
                    [["cron_name", "=", "CRM Backup: run data restores"]],
                ]);
                await call("ir.cron", "method_direct_trigger", [crons]);
                fetchBusMessages();
            },
        },
        {
            content: "The form shows it done, without a reload",
            trigger: current("Done"),
        },
        {
            trigger: '.alert-success:contains("values were restored")',
        },
    ],
});

registry.category("web_tour.tours").add("crm_live_stale_plan_tour", {
    steps: () => [
        {
            content: "The plan was reviewed",
            trigger: current("Planned"),
        },
        {
            trigger: "button.o_crm_restore_run",
        },
        {
            content: "Change the fields to restore",
            trigger: '.o_field_widget[name="field_ids"] .o_tag:contains("Email") .o_delete',
            run: "click",
        },
        {
            content: "The plan is out of date at once, before saving",
            trigger: current("Draft"),
        },
        {
            trigger: '.o_crm_restore_stale:contains("Plan out of date")',
        },
        {
            content: "Restoring is no longer offered, reviewing the plan is",
            trigger: "body:not(:has(button.o_crm_restore_run)) button.o_crm_restore_plan",
        },
        {
            content: "Discarding the change brings the plan back",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            trigger: current("Planned"),
        },
    ],
});
