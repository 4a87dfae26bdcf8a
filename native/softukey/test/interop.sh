#!/usr/bin/env bash
# interop.sh - SoftUKey against OpenSC pkcs11-tool and the OpenSSL CLI.
# usage: interop.sh path/to/libsoftukey.so path/to/suk_tool
# Prints "N passed, M failed" and exits non-zero on any failure.
set -u

LIB=$(readlink -f "${1:-build/libsoftukey.so}")
TOOL=$(readlink -f "${2:-build/suk_tool}")
command -v pkcs11-tool >/dev/null || { echo "pkcs11-tool (opensc) not installed"; echo "0 passed, 1 failed"; exit 1; }
command -v openssl >/dev/null || { echo "openssl not installed"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d /tmp/softukey-interop-XXXXXX)
trap 'rm -rf "$W"' EXIT
export SOFTUKEY_DIR="$W/tokens"
export SOFTUKEY_KDF_ITER=2000
unset SOFTUKEY_TEST_K SOFTUKEY_MAX_TRIES SOFTUKEY_SIGN_DELAY_MS
mkdir -p "$SOFTUKEY_DIR"

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/       /'; }
# check "description" command...   (command must succeed)
check() { local d=$1; shift; local out; if out=$("$@" 2>&1); then ok "$d"; else bad "$d" "$out"; fi; }
# check_fails "description" command...  (command must fail)
check_fails() { local d=$1; shift; local out; if out=$("$@" 2>&1); then bad "$d" "$out"; else ok "$d"; fi; }
# check_out "description" "regex" command...  (output must match)
check_out() { local d=$1 re=$2; shift 2; local out; out=$("$@" 2>&1); if echo "$out" | grep -Eq -- "$re"; then ok "$d"; else bad "$d" "$out"; fi; }

P11="pkcs11-tool --module $LIB"
SO=12345678
PIN=123456
SERIAL=IOP0000000000001
ID="1234567812345678"

# raw r||s (64 bytes) -> DER SEQUENCE{r,s}
raw2der() {
    local hex r s
    hex=$(xxd -p -c 256 "$1")
    r=${hex:0:64}
    s=${hex:64:64}
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "$r" "$s" > "$W/sig.cnf"
    openssl asn1parse -genconf "$W/sig.cnf" -out "$2" -noout
}

# e = SM3(Z || M), Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)
compute_e() { # pub.pem msg out.bin
    local xy
    xy=$(openssl pkey -pubin -in "$1" -outform DER | tail -c 64 | xxd -p -c 256)
    {
        printf '0080'
        printf '%s' "$ID" | xxd -p -c 256
        printf 'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC'
        printf '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93'
        printf '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7'
        printf 'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0'
        printf '%s' "$xy"
    } | tr -d '\n' | xxd -r -p > "$W/za.bin"
    openssl dgst -sm3 -binary "$W/za.bin" > "$W/z.bin"
    cat "$W/z.bin" "$2" | openssl dgst -sm3 -binary > "$3"
}

ossl_verify() { # pub msg sig [id]
    openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt "distid:${4:-$ID}" -pubin -inkey "$1" -in "$2" -sigfile "$3"
}

echo "== SoftUKey interop: $LIB"
pkcs11-tool --help 2>&1 | head -1 >/dev/null

# ---- plug a factory-blank key and provision it with pkcs11-tool
echo "SOFTUKEY-BLANK serial=$SERIAL" > "$SOFTUKEY_DIR/key1.suk"
check_out "pkcs11-tool -L sees the blank key" "uninitialized" $P11 -L
check_out "pkcs11-tool -I shows library info" "SoftUKey \(DEV ONLY\)" $P11 -I
check_out "init token" "successfully initialized" $P11 --init-token --so-pin $SO --label "Interop Key"
check_out "init user PIN (SO login)" "successfully initialized" $P11 --init-pin --login --login-type so --so-pin $SO --pin $PIN
check_out "-T shows label" "token label +: Interop Key" $P11 -T
check_out "-T shows serial (UKeyId)" "serial num +: $SERIAL" $P11 -T
check_out "-T flags: initialized + PIN initialized" "token initialized, PIN initialized" $P11 -T
check_out "-T model/manufacturer" "token model +: SM2 SoftUKey" $P11 -T
check_out "-M lists CKM_SM2_SM3_DER" "mechtype-0x80008101.*sign, verify" $P11 -M
check_out "-M lists CKM_SM2_KEY_PAIR_GEN" "mechtype-0x80008001.*generate_key_pair" $P11 -M
check_out "-M lists CKM_SM3" "mechtype-0x80009001.*digest" $P11 -M

# ---- PIN counter hardware-feature object (CKO_HW_FEATURE, CKH_SUK_PIN_COUNTER)
check "-O with the PIN counter object present exits 0" $P11 -O
check_out "-O shows the PIN counter as a hardware object (class 5)" "type 5|[Hh]ardware|HW" $P11 -O
check "-O (logged in) with the PIN counter object exits 0" $P11 -l --pin $PIN -O
check_fails "PIN counter is not stored in the token file" grep -q "^a=80000101:" "$SOFTUKEY_DIR/key1.suk"

# ---- PIN handling
check_fails "wrong PIN rejected" $P11 -l --pin 000000 -O
check_out "count-low flag after wrong PIN" "user PIN count low" $P11 -T
check "correct PIN accepted" $P11 -l --pin $PIN -O
check_fails "count-low cleared" bash -c "$P11 -T 2>&1 | grep -q 'count low'"
check_out "change PIN" "successfully changed" $P11 -l --pin $PIN --change-pin --new-pin 654321
check_fails "old PIN no longer valid" $P11 -l --pin $PIN -O
check "new PIN valid" $P11 -l --pin 654321 -O
check_out "change PIN back" "successfully changed" $P11 -l --pin 654321 --change-pin --new-pin $PIN

# ---- key generation (pkcs11-tool cannot build CKK_SM2 templates: use the helper)
check "generate SM2 key pair on token" "$TOOL" "$LIB" keygen $SERIAL $PIN signkey 01
check_out "-O (logged in) lists private key" "Private Key Object.*" $P11 -l --pin $PIN -O
check_out "-O private key attributes" "sensitive, always sensitive, never extractable, local" $P11 -l --pin $PIN -O
check_fails "-O without login hides private key" bash -c "$P11 -O 2>&1 | grep -q 'Private Key Object'"
check_out "-O without login shows public key" "Public Key Object" $P11 -O
check_out "-O with keys still lists the PIN counter" "type 5|[Hh]ardware|HW" $P11 -O
check "export public key as PEM (SM2 SPKI)" "$TOOL" "$LIB" pubkey $SERIAL signkey "$W/pub.pem"
check_out "openssl parses exported SPKI as SM2" "SM2|1.2.156.10197.1.301" openssl pkey -pubin -in "$W/pub.pem" -text -noout

# ---- token signs (pkcs11-tool), OpenSSL verifies
printf 'The quick brown fox jumps over the lazy dog' > "$W/msg"
check "pkcs11-tool sign CKM_SM2_SM3_DER" $P11 -l --pin $PIN -s -m 0x80008101 --id 01 -i "$W/msg" -o "$W/sig.der"
check_out "openssl verifies token DER signature" "Verified Successfully" ossl_verify "$W/pub.pem" "$W/msg" "$W/sig.der"
printf 'tampered' >> "$W/msg.bad"; cat "$W/msg" >> "$W/msg.bad"
check_fails "openssl rejects signature over other message" ossl_verify "$W/pub.pem" "$W/msg.bad" "$W/sig.der"
check_out "pkcs11-tool --verify accepts it" "Signature is valid" $P11 --verify -m 0x80008101 --id 01 -i "$W/msg" --signature-file "$W/sig.der"
# (pkcs11-tool exits 0 on a bad signature, so match its message)
check_out "pkcs11-tool --verify rejects other message" "Invalid signature" $P11 --verify -m 0x80008101 --id 01 -i "$W/msg.bad" --signature-file "$W/sig.der"

check "pkcs11-tool sign CKM_SM2_SM3 (raw r||s)" $P11 -l --pin $PIN -s -m 0x80008100 --id 01 -i "$W/msg" -o "$W/sig.raw"
check_out "raw signature is 64 bytes" "^64$" stat -c %s "$W/sig.raw"
raw2der "$W/sig.raw" "$W/sig.raw.der"
check_out "openssl verifies raw signature (converted to DER)" "Verified Successfully" ossl_verify "$W/pub.pem" "$W/msg" "$W/sig.raw.der"

compute_e "$W/pub.pem" "$W/msg" "$W/e.bin"
check "pkcs11-tool sign CKM_SM2 over precomputed e" $P11 -l --pin $PIN -s -m 0x80008105 --id 01 -i "$W/e.bin" -o "$W/sig.e.raw"
raw2der "$W/sig.e.raw" "$W/sig.e.der"
check_out "openssl verifies CKM_SM2(e) as signature of the message" "Verified Successfully" ossl_verify "$W/pub.pem" "$W/msg" "$W/sig.e.der"
check "pkcs11-tool sign CKM_SM2_DER over precomputed e" $P11 -l --pin $PIN -s -m 0x80008104 --id 01 -i "$W/e.bin" -o "$W/sig.e2.der"
check_out "openssl verifies CKM_SM2_DER(e)" "Verified Successfully" ossl_verify "$W/pub.pem" "$W/msg" "$W/sig.e2.der"
check_fails "CKM_SM2 with a non-32-byte input is refused" $P11 -l --pin $PIN -s -m 0x80008105 --id 01 -i "$W/msg" -o "$W/x"

# ---- OpenSSL signs, the token verifies
check "openssl genpkey SM2" openssl genpkey -algorithm SM2 -out "$W/ossl.key"
check "openssl export public key" openssl pkey -in "$W/ossl.key" -pubout -out "$W/ossl.pub"
check "openssl sign (SM3, distid)" openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:$ID -inkey "$W/ossl.key" -in "$W/msg" -out "$W/ossl.sig"
check "import OpenSSL public key into token" "$TOOL" "$LIB" importpub $SERIAL osslkey 02 "$W/ossl.pub"
check_out "pkcs11-tool --verify accepts OpenSSL signature" "Signature is valid" $P11 --verify -m 0x80008101 --id 02 -i "$W/msg" --signature-file "$W/ossl.sig"
check "helper C_Verify accepts OpenSSL signature" "$TOOL" "$LIB" verify $SERIAL osslkey 80008101 "$W/msg" "$W/ossl.sig"
check_fails "token rejects OpenSSL signature over other message" "$TOOL" "$LIB" verify $SERIAL osslkey 80008101 "$W/msg.bad" "$W/ossl.sig"
check "openssl sign with custom distid" openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:ALICE123@YAHOO.COM -inkey "$W/ossl.key" -in "$W/msg" -out "$W/ossl.alice.sig"
check "token verifies with ID as mechanism parameter" "$TOOL" "$LIB" verify $SERIAL osslkey 80008101 "$W/msg" "$W/ossl.alice.sig" ALICE123@YAHOO.COM
check_fails "token rejects it with the default ID" "$TOOL" "$LIB" verify $SERIAL osslkey 80008101 "$W/msg" "$W/ossl.alice.sig"

# ---- SM3 digest
printf 'abc' > "$W/abc"
check "pkcs11-tool --hash CKM_SM3" $P11 --hash -m 0x80009001 -i "$W/abc" -o "$W/abc.sm3"
openssl dgst -sm3 -binary "$W/abc" > "$W/abc.ossl.sm3"
check "token SM3 equals openssl dgst -sm3" cmp "$W/abc.sm3" "$W/abc.ossl.sm3"
check_out "SM3(abc) known answer" "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" xxd -p -c 64 "$W/abc.sm3"

# ---- certificates
check "openssl self-signed SM2 certificate" openssl req -x509 -new -key "$W/ossl.key" -sm3 -sigopt distid:$ID -subj "/CN=SoftUKey Interop" -days 1 -outform DER -out "$W/cert.der"
check "pkcs11-tool --write-object cert" $P11 -l --pin $PIN --write-object "$W/cert.der" --type cert --id 02 --label osslcert
check_out "-O lists certificate" "Certificate Object.*X.509" $P11 -O
check "pkcs11-tool --read-object cert" $P11 --read-object --type cert --id 02 -o "$W/cert.back"
check "certificate read back byte-identical" cmp "$W/cert.der" "$W/cert.back"
check "pkcs11-tool --delete-object cert" $P11 -l --pin $PIN --delete-object --type cert --id 02
check_fails "certificate gone" bash -c "$P11 -O 2>&1 | grep -q 'Certificate Object'"

# ---- misc
check "pkcs11-tool --generate-random" $P11 --generate-random 32 -o "$W/rnd"
check_out "32 random bytes" "^32$" stat -c %s "$W/rnd"

# ---- unplug / replug
mv "$SOFTUKEY_DIR/key1.suk" "$W/key1.away"
check_fails "unplugged key not listed" bash -c "$P11 -T 2>&1 | grep -q $SERIAL"
mv "$W/key1.away" "$SOFTUKEY_DIR/key1.suk"
check_out "replugged key listed again" "serial num +: $SERIAL" $P11 -T
check_out "keys survive unplug" "Signature is valid" $P11 --verify -m 0x80008101 --id 01 -i "$W/msg" --signature-file "$W/sig.der"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
