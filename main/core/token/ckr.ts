import { ResultCode } from '../../common/codes';
import type { ResultCode as Code } from '../../common/codes';
import { AgentError } from '../../common/errors';

/** The CKR_* name of a pkcs11js error, or undefined when it is not a PKCS#11 return value. */
export function ckrName(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'message' in e) {
    const m = /^(CKR_[A-Z0-9_]+)/.exec(String((e as { message: unknown }).message));
    if (m) return m[1];
  }
  return undefined;
}

const table: Record<string, [Code, string]> = {
  CKR_PIN_INCORRECT: [ResultCode.PIN_ERROR, 'wrong PIN'],
  CKR_PIN_LOCKED: [
    ResultCode.PIN_ERROR,
    'the PIN is locked; the administrator must unblock it with the SO PIN',
  ],
  CKR_PIN_EXPIRED: [ResultCode.PIN_ERROR, 'the PIN has expired; change it first'],
  CKR_USER_PIN_NOT_INITIALIZED: [
    ResultCode.PIN_ERROR,
    'the key has no user PIN yet; initialise it first',
  ],
  CKR_USER_NOT_LOGGED_IN: [ResultCode.PIN_ERROR, 'the key needs the PIN for this operation'],
  CKR_PIN_LEN_RANGE: [ResultCode.BAD_PARAM, 'the PIN length is out of the range this key accepts'],
  CKR_PIN_INVALID: [ResultCode.BAD_PARAM, 'the PIN contains characters this key does not accept'],
  CKR_DEVICE_REMOVED: [ResultCode.NO_UKEY, 'the UKey was removed'],
  CKR_TOKEN_NOT_PRESENT: [ResultCode.NO_UKEY, 'no UKey in that slot'],
  CKR_TOKEN_NOT_RECOGNIZED: [ResultCode.NO_UKEY, 'the UKey is not recognised by its module'],
  CKR_SLOT_ID_INVALID: [ResultCode.NO_UKEY, 'the UKey is no longer present'],
  CKR_SESSION_HANDLE_INVALID: [ResultCode.NO_UKEY, 'the UKey was removed or its session closed'],
  CKR_SESSION_CLOSED: [ResultCode.NO_UKEY, 'the UKey was removed or its session closed'],
  CKR_MECHANISM_INVALID: [ResultCode.UNSUPPORTED_ALG, 'this key does not support that algorithm'],
  CKR_MECHANISM_PARAM_INVALID: [
    ResultCode.UNSUPPORTED_ALG,
    'this key rejects the algorithm parameters',
  ],
  CKR_KEY_TYPE_INCONSISTENT: [
    ResultCode.UNSUPPORTED_ALG,
    'the key type does not match the algorithm',
  ],
  CKR_KEY_FUNCTION_NOT_PERMITTED: [
    ResultCode.UNSUPPORTED_ALG,
    'the key may not be used for this operation',
  ],
  CKR_FUNCTION_CANCELED: [ResultCode.DECLINED, 'the operation was cancelled on the key'],
  CKR_ARGUMENTS_BAD: [ResultCode.BAD_PARAM, 'the key refused the arguments'],
  CKR_DATA_LEN_RANGE: [ResultCode.BAD_PARAM, 'the data length is out of range for this key'],
  CKR_DATA_INVALID: [ResultCode.BAD_PARAM, 'the data is not valid for this key'],
  CKR_ATTRIBUTE_VALUE_INVALID: [
    ResultCode.BAD_PARAM,
    'an attribute value is not valid for this key',
  ],
  CKR_TEMPLATE_INCOMPLETE: [ResultCode.BAD_PARAM, 'the object template is incomplete'],
  CKR_TEMPLATE_INCONSISTENT: [ResultCode.BAD_PARAM, 'the object template is inconsistent'],
  CKR_SIGNATURE_INVALID: [ResultCode.BAD_PARAM, 'the signature does not verify'],
  CKR_SIGNATURE_LEN_RANGE: [ResultCode.BAD_PARAM, 'the signature has the wrong length'],
  CKR_OBJECT_HANDLE_INVALID: [ResultCode.BAD_PARAM, 'the object no longer exists on the key'],
  CKR_SESSION_READ_ONLY: [ResultCode.INTERNAL, 'the key session is read-only'],
  CKR_TOKEN_WRITE_PROTECTED: [ResultCode.BAD_PARAM, 'the key is write-protected'],
  CKR_DEVICE_MEMORY: [ResultCode.INTERNAL, 'the key has no memory left for new objects'],
  CKR_DEVICE_ERROR: [
    ResultCode.INTERNAL,
    'the key reported a device error; re-plug it and try again',
  ],
  CKR_GENERAL_ERROR: [ResultCode.INTERNAL, 'the key module reported a general error'],
};

/** Maps any failure of a PKCS#11 call to the contract's error, naming the CKR_* for the operator. */
export function mapPkcs11Error(e: unknown, operation: string): AgentError {
  if (e instanceof AgentError) return e;
  const name = ckrName(e);
  if (name) {
    const [code, text] = table[name] ?? [ResultCode.INTERNAL, 'the key module failed'];
    return new AgentError(code, `${operation}: ${text} (${name})`, { ckr: name });
  }
  return new AgentError(ResultCode.INTERNAL, `${operation}: the key module failed`, {
    cause: e instanceof Error ? e.message : String(e),
  });
}
