/** Domain errors; the API maps each class to one HTTP status in one place. */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(`${what} "${id}" not found`, 'not_found', { [what]: id });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 'conflict', details);
  }
}

export class InvalidRequestError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 'invalid_request', details);
  }
}

export class DeviceOfflineError extends DomainError {
  constructor(deviceId: string) {
    super(`device "${deviceId}" is offline`, 'device_offline', { deviceId });
  }
}

export class AuthenticationError extends DomainError {
  constructor(message = 'sign in first') {
    super(message, 'unauthenticated');
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'your role does not allow this') {
    super(message, 'forbidden');
  }
}

export class TooManyAttemptsError extends DomainError {
  constructor(readonly retryAfterS: number) {
    super(`too many failed sign-ins; try again in ${retryAfterS} s`, 'locked', { retryAfterS });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(limitBytes: number) {
    super(`the upload is larger than the limit of ${limitBytes} bytes`, 'payload_too_large', { limitBytes });
  }
}

export class UnsupportedMediaError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 'unsupported_media_type', details);
  }
}

export class UnprocessableError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 'unprocessable', details);
  }
}

/** A backing service (the history store) is not answering; the client may retry later. */
export class ServiceUnavailableError extends DomainError {
  constructor(message: string, code: string, details?: unknown) {
    super(message, code, details);
  }
}

/** The platform's disk has no room for what was asked (HTTP 507 Insufficient Storage, RFC 4918). */
export class InsufficientStorageError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 'insufficient_storage', details);
  }
}
