/*
 * softukey.h - vendor-defined PKCS#11 constants of the SoftUKey SM2 module.
 * DEVELOPMENT / TEST token only - never use for production keys.
 */
#ifndef SOFTUKEY_H
#define SOFTUKEY_H

#define CKK_SM2                 0x80000004UL
#define CKM_SM2_KEY_PAIR_GEN    0x80008001UL
#define CKM_SM2_SM3             0x80008100UL /* message, SM3 with Z, raw r||s (64) */
#define CKM_SM2_SM3_DER         0x80008101UL /* message, SM3 with Z, DER SEQUENCE{r,s} */
#define CKM_SM2_DER             0x80008104UL /* precomputed e (32 bytes), DER */
#define CKM_SM2                 0x80008105UL /* precomputed e (32 bytes), raw r||s (64) */
#define CKM_SM3                 0x80009001UL /* SM3 digest */

/* DER of OID 1.2.156.10197.1.301 (SM2 curve) - the CKA_EC_PARAMS value */
#define SOFTUKEY_SM2_OID_DER "\x06\x08\x2A\x81\x1C\xCF\x55\x01\x82\x2D"
#define SOFTUKEY_SM2_OID_DER_LEN 10

#define SOFTUKEY_DEFAULT_ID "1234567812345678"

/*
 * PIN retry counters: every initialised token presents one read-only, public
 * virtual object of class CKO_HW_FEATURE with CKA_HW_FEATURE_TYPE =
 * CKH_SUK_PIN_COUNTER. Its CK_ULONG attributes below are read live from the
 * token state. The object is never stored in the token file.
 */
#define CKH_SUK_PIN_COUNTER     0x80000001UL /* CKH_VENDOR_DEFINED + 1 */
#define CKA_SUK_USER_TRIES_LEFT 0x80000101UL
#define CKA_SUK_USER_MAX_TRIES  0x80000102UL
#define CKA_SUK_SO_TRIES_LEFT   0x80000103UL
#define CKA_SUK_SO_MAX_TRIES    0x80000104UL

#endif
