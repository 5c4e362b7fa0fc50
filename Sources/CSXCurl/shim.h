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

// The version string of the libcurl actually loaded (not the headers built against).
static inline const char *sx_curl_version(void) { return curl_version(); }
#endif
