/** Small line icons of the notification center (SVG, `currentColor`, hidden from readers). */
import type { ComponentChildren } from "preact";

function Svg({ children, size = 18 }: { children: ComponentChildren; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** A bell. */
export function BellIcon({ size }: { size?: number }) {
  return (
    <Svg size={size}>
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </Svg>
  );
}

/** A check mark ("mark read"). */
export function CheckIcon() {
  return (
    <Svg size={16}>
      <path d="M20 6 9 17l-5-5" />
    </Svg>
  );
}

/** A box ("archive"). */
export function ArchiveIcon() {
  return (
    <Svg size={16}>
      <rect x="2" y="3" width="20" height="5" rx="1" />
      <path d="M4 8v11a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8" />
      <path d="M10 12h4" />
    </Svg>
  );
}

/** A cross ("close"). */
export function CloseIcon() {
  return (
    <Svg size={16}>
      <path d="M18 6 6 18" />
      <path d="m6 6 12 12" />
    </Svg>
  );
}
