/** The errors of a publish that finally failed and of a request that failed. */
import type {
  PublishErrorCode,
  PublishFailure,
  RequestErrorCode,
  RequestFailure,
} from "./types.ts";

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

const CLIENT_TEMPORARY: readonly RequestErrorCode[] = ["timeout", "disconnected", "queue_full"];

/**
 * A request that failed: `history()` rejects with it. `code` says why (see
 * {@linkcode RequestErrorCode}); `temporary` whether asking again later may succeed.
 */
export class RequestError extends Error implements RequestFailure {
  readonly code: RequestErrorCode;
  readonly request: string;
  readonly channel: string;
  readonly id: string;
  readonly temporary: boolean;

  constructor(
    code: RequestErrorCode,
    request: string,
    channel: string,
    id: string,
    message: string,
    temporary = CLIENT_TEMPORARY.includes(code),
  ) {
    super(message);
    this.name = "RequestError";
    this.code = code;
    this.request = request;
    this.channel = channel;
    this.id = id;
    this.temporary = temporary;
  }
}
