/** The error of a publish that finally failed. */
import type { PublishErrorCode, PublishFailure } from "./types.ts";

/**
 * A publish that finally failed: `publish()` rejects with it and `onPublishFailed`
 * listeners receive it. `code` says why (see {@linkcode PublishErrorCode}).
 */
export class PublishError extends Error implements PublishFailure {
  readonly code: PublishErrorCode;
  readonly channel: string;
  readonly id: string;

  constructor(code: PublishErrorCode, channel: string, id: string, message: string) {
    super(message);
    this.name = "PublishError";
    this.code = code;
    this.channel = channel;
    this.id = id;
  }
}
