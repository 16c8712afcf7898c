/** @odoo-module **/
import {onWillStart, onWillUpdateProps, useState} from "@odoo/owl";
import {CrmBackupListRenderer} from "./crm_backup_list";
import {patch} from "@web/core/utils/patch";
import {useService} from "@web/core/utils/hooks";

/** The frequency limit, told before the "Create backup" dialog. */
patch(CrmBackupListRenderer.prototype, {
    setup() {
        super.setup(...arguments);
        this.backupOrm = useService("orm");
        this.nextBackup = useState({hint: false});
        onWillStart(() => this.loadNextBackupHint());
        // after a backup was requested the list reloads: the hint may change
        onWillUpdateProps(() => this.loadNextBackupHint());
    },
    async loadNextBackupHint() {
        this.nextBackup.hint = await this.backupOrm.call(
            "crm.backup",
            "get_next_backup_hint",
            []
        );
    },
});
