/*
 * Minimal N-API binding to the system c-blosc: one synchronous compress into a caller-owned buffer.
 * Synchronous on purpose: it runs inside a worker thread, and letting the caller pass `dest` means the hot path
 * allocates nothing (fresh allocations fault in pages slowly on the target machines).
 * blosc_compress_ctx is used, not blosc_compress, because it keeps no global state and is safe to call from
 * several worker threads at once.
 */
#include <blosc.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error((env), NULL, "blosc addon: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int get_bytes(napi_env env, napi_value v, const char *field, void **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length;
  napi_value ab;
  size_t offset;
  char msg[128];
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) {
    snprintf(msg, sizeof msg, "%s must be a Uint8Array", field);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    snprintf(msg, sizeof msg, "%s must be a Uint8Array", field);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *len = length;
  return 1;
}

static int get_int(napi_env env, napi_value v, const char *field, int lo, int hi, int *out) {
  char msg[128];
  if (napi_get_value_int32(env, v, out) != napi_ok || *out < lo || *out > hi) {
    snprintf(msg, sizeof msg, "%s must be an integer %d..%d", field, lo, hi);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* compress(src, dest, clevel, shuffle, typesize, cname, blocksize) -> bytes written to dest */
static napi_value Compress(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  void *src, *dest;
  size_t src_len, dest_len;
  int clevel, shuffle, typesize, blocksize;
  char cname[16];
  size_t cname_len;
  char msg[160];
  int written;
  napi_value result;

  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "compress(src, dest, clevel, shuffle, typesize, cname, blocksize) needs 7 arguments");
    return NULL;
  }
  if (!get_bytes(env, argv[0], "src", &src, &src_len)) return NULL;
  if (!get_bytes(env, argv[1], "dest", &dest, &dest_len)) return NULL;
  if (!get_int(env, argv[2], "clevel", 0, 9, &clevel)) return NULL;
  if (!get_int(env, argv[3], "shuffle", 0, 2, &shuffle)) return NULL;
  if (!get_int(env, argv[4], "typesize", 1, 255, &typesize)) return NULL;
  if (napi_get_value_string_utf8(env, argv[5], cname, sizeof cname, &cname_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "cname must be a string");
    return NULL;
  }
  if (!get_int(env, argv[6], "blocksize", 0, BLOSC_MAX_BUFFERSIZE, &blocksize)) return NULL;
  if (src_len > BLOSC_MAX_BUFFERSIZE) {
    snprintf(msg, sizeof msg, "src must be at most %d bytes, got %zu", BLOSC_MAX_BUFFERSIZE, src_len);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  /* With this much room c-blosc guarantees success, so 0 ("did not fit") can only mean a caller bug. */
  if (dest_len < src_len + BLOSC_MAX_OVERHEAD) {
    snprintf(msg, sizeof msg, "dest must hold src.byteLength + %d = %zu bytes, got %zu", BLOSC_MAX_OVERHEAD,
             src_len + BLOSC_MAX_OVERHEAD, dest_len);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  written = blosc_compress_ctx(clevel, shuffle, (size_t)typesize, src_len, src, dest, dest_len, cname,
                               (size_t)blocksize, 1);
  if (written <= 0) {
    snprintf(msg, sizeof msg, "blosc_compress_ctx failed with code %d (cname \"%s\" not compiled into libblosc?)",
             written, cname);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  CHECK(env, napi_create_int32(env, written, &result));
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn, version, overhead;
  if (napi_create_function(env, "compress", NAPI_AUTO_LENGTH, Compress, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "compress", fn) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, BLOSC_VERSION_STRING, NAPI_AUTO_LENGTH, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "bloscVersion", version) != napi_ok) return NULL;
  if (napi_create_int32(env, BLOSC_MAX_OVERHEAD, &overhead) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "maxOverhead", overhead) != napi_ok) return NULL;
  return exports;
}
