/** @odoo-module **/
import {formatFloat, formatInteger} from "@web/views/fields/formatters";
import {Component} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

/**
 * A size in bytes the way people read it, in their number format: 19.7 kB
 * (the same as the server's formatting.human_size).
 *
 * @param {Number} size number of bytes
 * @returns {String}
 */
export function formatFileSize(size) {
    if (size === 1) {
        return _t("1 byte");
    }
    if (size < 1024) {
        return _t("%s bytes", formatInteger(size));
    }
    const units = [_t("kB"), _t("MB"), _t("GB"), _t("TB")];
    let value = size / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${formatFloat(value, {digits: [false, 1]})} ${units[unit]}`;
}

/** Read-only size in bytes shown the way people read it (e.g. 19.7 kB). */
export class CrmBackupFileSizeField extends Component {
    static template = "crm_data_backup.FileSizeField";
    static props = {...standardFieldProps};

    get formattedValue() {
        const value = this.props.record.data[this.props.name];
        return value ? formatFileSize(value) : "";
    }
}

registry.category("fields").add("crm_backup_file_size", {
    component: CrmBackupFileSizeField,
    displayName: _t("File size"),
    supportedTypes: ["float", "integer"],
});
