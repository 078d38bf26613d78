// Debian 12's libssl-dev (OpenSSL 3.0), for TLS to Redis beside hiredis 0.14, and the SHA-2 contexts of the caller
// token's HMAC. The few OpenSSL calls that are macros do not import into Swift; these inline functions wrap them.
#ifndef TOKENMINT_COPENSSL_SHIM_H
#define TOKENMINT_COPENSSL_SHIM_H
// OpenSSL 3 marks the low-level SHA-2 functions deprecated in favour of EVP, whose contexts live on the heap and
// whose copies allocate: the HMAC here copies two plain C structs per request instead.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/// TLS 1.2 is the oldest version offered or accepted.
static inline int tokenmint_ssl_ctx_require_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

/// The name sent as SNI (never an IP address: RFC 6066 forbids it).
static inline int tokenmint_ssl_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static int tokenmint_no_passphrase(char *buffer, int size, int rwflag, void *user) {
    (void)buffer; (void)size; (void)rwflag; (void)user;
    return 0;
}

/// An encrypted key file fails to load instead of OpenSSL prompting for a passphrase on the terminal.
static inline void tokenmint_ssl_ctx_refuse_passphrases(SSL_CTX *context) {
    SSL_CTX_set_default_passwd_cb(context, tokenmint_no_passphrase);
}
#endif
