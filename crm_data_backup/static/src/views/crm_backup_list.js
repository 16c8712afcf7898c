/** @odoo-module **/
import {ListRenderer} from "@web/views/list/list_renderer";
import {listView} from "@web/views/list/list_view";
import {registry} from "@web/core/registry";

/** Backups list with a standing warning that backups hold every value. */
export class CrmBackupListRenderer extends ListRenderer {
    static template = "crm_data_backup.CrmBackupListRenderer";
}

registry.category("views").add("crm_backup_list", {
    ...listView,
    Renderer: CrmBackupListRenderer,
});
