#ifndef CSXCURL_SHIM_H
#define CSXCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: one typed wrapper per argument type.
static inline CURLcode sx_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
// Variadic; string options.
static inline CURLcode sx_curl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
// Variadic; pointer options (callback data, slists).
static inline CURLcode sx_curl_setopt_pointer(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
// Variadic; long results.
static inline CURLcode sx_curl_getinfo_long(CURL *c, CURLINFO i, long *v) { return curl_easy_getinfo(c, i, v); }
// Variadic; string results.
static inline CURLcode sx_curl_getinfo_string(CURL *c, CURLINFO i, char **v) { return curl_easy_getinfo(c, i, v); }

// Variadic; curl_off_t results (the *_TIME_T timings, in microseconds).
static inline CURLcode sx_curl_getinfo_off_t(CURL *c, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(c, i, v); }
// Variadic; pointer results (CURLINFO_CERTINFO, CURLINFO_PRIVATE).
static inline CURLcode sx_curl_getinfo_pointer(CURL *c, CURLINFO i, void **v) { return curl_easy_getinfo(c, i, v); }
// Variadic; curl_off_t options (CURLOPT_MAXFILESIZE_LARGE).
static inline CURLcode sx_curl_setopt_off_t(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
// Variadic; function-pointer options need their own C type.
static inline CURLcode sx_curl_setopt_write(CURL *c, CURLoption o, curl_write_callback f) { return curl_easy_setopt(c, o, f); }
// Variadic; CURLOPT_DEBUGFUNCTION's callback type.
static inline CURLcode sx_curl_setopt_debug(CURL *c, curl_debug_callback f) { return curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, f); }
// Variadic; CURLOPT_XFERINFOFUNCTION's callback type (a transfer the caller may cancel).
static inline CURLcode sx_curl_setopt_xferinfo(CURL *c, curl_xferinfo_callback f) { return curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, f); }
// curl_multi_setopt is variadic too.
static inline CURLMcode sx_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
// CURLMsg carries its result in a union; read it in C.
static inline CURLcode sx_curl_msg_result(CURLMsg *m) { return m->data.result; }

// The version string of the libcurl actually loaded (not the headers built against).
static inline const char *sx_curl_version(void) { return curl_version(); }
#endif
