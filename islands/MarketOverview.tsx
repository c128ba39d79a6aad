import type { ReadonlySignal } from "@preact/signals";
import { hueOf } from "../components/prices/BoardRow.tsx";
import { formatAge, formatPct, formatVolume } from "../lib/prices/format.ts";
import { useChannelValue, useLocale } from "../lib/prices/ui/hooks.ts";
import { parseOverview } from "../lib/prices/ui/validate.ts";
import { type MarketOverview as Overview, OVERVIEW_CHANNEL } from "../lib/prices/types.ts";

/** Props: the overview the server rendered (from `market:overview` or the board). */
export interface MarketOverviewProps {
  initial: Overview;
}

/** Assets drawn in the volume share bar; the rest is one "other" segment. */
const SHARE_SEGMENTS = 5;

function VolumeShare({ shares }: { shares: Overview["volumeShare"] }) {
  const top = shares.slice(0, SHARE_SEGMENTS);
  const rest = shares.slice(SHARE_SEGMENTS).reduce((sum, s) => sum + s.share, 0);
  let x = 0;
  const segments = top.map((s) => {
    const seg = { ...s, x, w: s.share * 100 };
    x += seg.w;
    return seg;
  });
  return (
    <div class="share">
      <svg class="share-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
        {segments.map((s) => (
          <rect
            key={s.asset}
            class={`hue-fill-${hueOf(s.asset)}`}
            x={s.x}
            y={0}
            width={s.w}
            height={6}
          />
        ))}
        {rest > 0 && <rect class="share-rest" x={x} y={0} width={rest * 100} height={6} />}
      </svg>
      <ul class="share-legend">
        {top.slice(0, 3).map((s) => (
          <li key={s.asset}>
            <span class={`swatch hue-fill-bg-${hueOf(s.asset)}`} aria-hidden="true"></span>
            {s.asset} {Math.round(s.share * 100)}%
          </li>
        ))}
      </ul>
    </div>
  );
}

function Movers(
  { title, movers, locale }: {
    title: string;
    movers: Overview["gainers"];
    locale: ReadonlySignal<string>;
  },
) {
  return (
    <div class="ov-card">
      <h2 class="ov-title">{title}</h2>
      {movers.length === 0 ? <p class="ov-value muted">—</p> : (
        <ol class="ov-movers">
          {movers.map((m) => (
            <li key={m.symbol}>
              <a href={`/markets/${m.symbol}`}>{m.symbol.replace(/-USD$/, "")}</a>
              <span class={`num ${m.changePct >= 0 ? "pos" : "neg"}`}>
                {formatPct(m.changePct, { locale: locale.value })}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/**
 * The market overview strip: 24 h volume, breadth, top movers, volume share and the
 * venues' health, live from `market:overview` (the server-rendered value until then).
 */
export default function MarketOverview({ initial }: MarketOverviewProps) {
  const locale = useLocale();
  const channel = useChannelValue(OVERVIEW_CHANNEL, parseOverview, initial);
  const o = channel.value.value ?? initial;
  const total = o.advancers + o.decliners;
  const loc = { locale: locale.value };
  return (
    <section class="overview" aria-label="Market overview" data-live={channel.status.value}>
      <div class="ov-card">
        <h2 class="ov-title">24h volume</h2>
        <p class="ov-value" data-testid="ov-volume">
          {formatVolume(o.volume24hUsd, { ...loc, currency: "USD" })}
        </p>
        <p class="ov-sub muted">rolling, all pairs</p>
      </div>
      <div class="ov-card">
        <h2 class="ov-title">Breadth</h2>
        <p class="ov-value">
          <span class="pos">▲ {o.advancers}</span> <span class="neg">▼ {o.decliners}</span>
        </p>
        <svg class="breadth" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
          <rect
            class="breadth-up"
            x={0}
            y={0}
            width={total ? (o.advancers / total) * 100 : 50}
            height={4}
          />
          <rect
            class="breadth-down"
            x={total ? (o.advancers / total) * 100 : 50}
            y={0}
            width={total ? (o.decliners / total) * 100 : 50}
            height={4}
          />
        </svg>
      </div>
      <Movers title="Top gainers" movers={o.gainers} locale={locale} />
      <Movers title="Top losers" movers={o.losers} locale={locale} />
      <div class="ov-card ov-share">
        <h2 class="ov-title">Volume share</h2>
        <VolumeShare shares={o.volumeShare} />
      </div>
      <div class="ov-card">
        <h2 class="ov-title">Venues</h2>
        {o.venues.length === 0 ? <p class="ov-value muted">—</p> : (
          <ul class="ov-venues">
            {o.venues.map((v) => (
              <li
                key={v.venue}
                data-state={v.connected ? (v.staleSymbols ? "partial" : "up") : "down"}
              >
                <span class="dot" aria-hidden="true"></span>
                <span class="venue-name">{v.venue}</span>
                <span class="muted">
                  {!v.connected
                    ? "down"
                    : v.staleSymbols
                    ? `${v.staleSymbols} stale`
                    : v.ageMs === null
                    ? "up"
                    : formatAge(v.ageMs, loc)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
