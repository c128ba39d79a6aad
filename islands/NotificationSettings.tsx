import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { CATEGORY_LABEL } from "../components/notifications/NotificationItem.tsx";
import type { NotificationCategory, NotificationPreferences } from "../lib/notifications/types.ts";
import { createInboxApi, type InboxApi } from "../lib/notifications/ui/api.ts";

const CATEGORIES = Object.keys(CATEGORY_LABEL) as NotificationCategory[];
const MIN_PRIORITY: { id: NotificationPreferences["minPriority"]; label: string }[] = [
  { id: "low", label: "Everything" },
  { id: "normal", label: "Normal and above" },
  { id: "high", label: "High and critical" },
  { id: "critical", label: "Critical only" },
];

/**
 * What reaches the inbox: categories to mute and the lowest priority delivered
 * (`GET|PUT /api/notifications/preferences`). Each change saves at once and says so.
 */
export default function NotificationSettings() {
  const prefs = useSignal<NotificationPreferences | null>(null);
  const status = useSignal<string>("");
  const api = useRef<InboxApi | null>(null);

  useEffect(() => {
    api.current = createInboxApi();
    api.current.preferences().then(
      (p) => prefs.value = p,
      (err: Error) => status.value = `Your settings could not be loaded: ${err.message}`,
    );
  }, []);

  const save = async (next: NotificationPreferences) => {
    const before = prefs.value;
    prefs.value = next;
    status.value = "Saving…";
    try {
      prefs.value = await api.current!.savePreferences(next);
      status.value = "Saved.";
    } catch (err) {
      prefs.value = before;
      status.value = `Not saved: ${(err as Error).message}`;
    }
  };

  const p = prefs.value;
  return (
    <section class="panel nc-settings" aria-labelledby="nc-settings-title">
      <h2 id="nc-settings-title">Notification settings</h2>
      {!p
        ? <p class="muted">Loading…</p>
        : (
          <form onSubmit={(e) => e.preventDefault()} data-testid="nc-settings">
            <fieldset>
              <legend>Deliver</legend>
              {CATEGORIES.map((c) => (
                <label key={c} class="nc-check">
                  <input
                    type="checkbox"
                    name="category"
                    value={c}
                    checked={!p.muted.includes(c)}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      const muted = on ? p.muted.filter((m) => m !== c) : [...p.muted, c];
                      void save({ ...p, muted });
                    }}
                  />
                  {CATEGORY_LABEL[c]}
                </label>
              ))}
            </fieldset>
            <div class="alert-field">
              <label for="nc-min-priority">Priority</label>
              <select
                id="nc-min-priority"
                name="minPriority"
                value={p.minPriority}
                onChange={(e) =>
                  void save({
                    ...p,
                    minPriority: (e.currentTarget as HTMLSelectElement)
                      .value as NotificationPreferences["minPriority"],
                  })}
              >
                {MIN_PRIORITY.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
              </select>
            </div>
          </form>
        )}
      <p class="muted nc-settings-status" role="status" data-testid="nc-settings-status">
        {status.value}
      </p>
    </section>
  );
}
