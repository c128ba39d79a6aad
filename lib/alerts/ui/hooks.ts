/**
 * What the alert islands of one page share: a version signal bumped whenever a rule is
 * created, changed or deleted (every list on the page reloads), and the user's rules
 * re-read when one fires (a `price_alert` notification arrives on `user:{id}`).
 *
 * @module
 */
import { type ReadonlySignal, signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { pageInbox } from "../../notifications/ui/hooks.ts";
import type { AlertRule } from "../types.ts";
import { type AlertsApi, createAlertsApi } from "./api.ts";

const version = signal(0);

/** Tells every rule list of the page that the rules changed. */
export function rulesChanged(): void {
  version.value++;
}

let api: AlertsApi | null = null;

/** The page's alerts client. */
export function pageAlertsApi(): AlertsApi {
  return api ??= createAlertsApi();
}

/** The signed-in user's rules, kept current. */
export interface RuleList {
  rules: ReadonlySignal<AlertRule[]>;
  status: ReadonlySignal<"loading" | "ready" | "error">;
  error: ReadonlySignal<string | null>;
  reload(): Promise<void>;
}

/**
 * The user's rules: read on mount, again after any change made on this page and
 * whenever one of them fires (its `lastFiredAt`, and `enabled` of a `once` rule, change).
 */
export function useRules(userId: string): RuleList {
  const rules = useSignal<AlertRule[]>([]);
  const status = useSignal<"loading" | "ready" | "error">("loading");
  const error = useSignal<string | null>(null);
  const reload = async () => {
    try {
      rules.value = await pageAlertsApi().list();
      status.value = "ready";
      error.value = null;
    } catch (err) {
      status.value = rules.value.length > 0 ? "ready" : "error";
      error.value = `Your alerts could not be loaded: ${(err as Error).message}`;
    }
  };
  useEffect(() => {
    void reload();
  }, [version.value]);
  useEffect(() => {
    const inbox = pageInbox(userId);
    return inbox.onArrival((item) => {
      if (item.category === "price_alert") void reload();
    });
  }, [userId]);
  return { rules, status, error, reload };
}
