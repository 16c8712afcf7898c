/** @odoo-module **/
import {onMounted, onWillUnmount} from "@odoo/owl";
import {FormController} from "@web/views/form/form_controller";
import {ListController} from "@web/views/list/list_controller";
import {patch} from "@web/core/utils/patch";
import {useService} from "@web/core/utils/hooks";

// Sent by the server when a backup or a restore moves (state, progress):
// models/crm_backup_live.py.
export const LIVE_NOTIFICATION = "crm_data_backup/job";
const LIVE_MODELS = ["crm.backup", "crm.backup.restore"];

/**
 * Reload a view of backups or restores when the server says one of them
 * moved, while the view is on screen. ``reload(ids)`` returns a promise;
 * messages that come during a reload are folded into one more reload.
 */
export function useLiveJobs(resModel, reload) {
    if (!LIVE_MODELS.includes(resModel)) {
        return;
    }
    const busService = useService("bus_service");
    let running = null;
    let pending = null;
    const onJob = ({model, ids}) => {
        if (model !== resModel) {
            return;
        }
        pending = [...(pending || []), ...ids];
        if (running) {
            return;
        }
        running = (async () => {
            while (pending) {
                const changed = pending;
                pending = null;
                await reload(changed);
            }
            running = null;
        })();
    };
    onMounted(() => busService.subscribe(LIVE_NOTIFICATION, onJob));
    onWillUnmount(() => busService.unsubscribe(LIVE_NOTIFICATION, onJob));
}

patch(ListController.prototype, {
    setup() {
        super.setup(...arguments);
        useLiveJobs(this.props.resModel, async () => {
            // a row being edited keeps its input
            if (!this.model.root.editedRecord) {
                await this.model.load();
            }
        });
    },
});

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        useLiveJobs(this.props.resModel, async (ids) => {
            const record = this.model.root;
            // unsaved changes are the user's: never reloaded away
            if (ids.includes(record.resId) && !(await record.isDirty())) {
                await record.load();
            }
        });
    },
});
