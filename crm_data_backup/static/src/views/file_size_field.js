/** @odoo-module **/
import {Component} from "@odoo/owl";
import {humanSize} from "@web/core/utils/binary";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/** Read-only size in bytes shown the way people read it (e.g. 20.86 Kb). */
export class CrmBackupFileSizeField extends Component {
    static template = "crm_data_backup.FileSizeField";
    static props = {...standardFieldProps};

    get formattedValue() {
        const value = this.props.record.data[this.props.name];
        return value ? humanSize(value) : "";
    }
}

registry.category("fields").add("crm_backup_file_size", {
    component: CrmBackupFileSizeField,
    displayName: "File size",
    supportedTypes: ["float", "integer"],
});
