/*
 * Native kernels for the pyramid's 2x2x2 means of small integer pixels (uint8, int8, uint16, int16): the same
 * arithmetic as src/downsample/reduce.ts, compiled. They read a full-resolution frame about as fast as memory
 * delivers it, so the Downsampler can run them on the main thread instead of copying every frame to a worker.
 *
 * sum2x2Async(src, width, height, planes, sums): sums[o] = the 2x2 block's sum (int32), odd edges repeated.
 * meanPairAsync(sums, src, width, height, planes, out): out[o] = (sums[o] + src's 2x2 sum + 4) >> 3, in src's
 * dtype. Both return a promise and run on libuv's thread pool (see below).
 * Typed arrays are taken as they come: the element type selects the kernel, lengths are checked against the shape
 * (a longer src is read up to the frame's end, as the JavaScript kernels do).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(env, call)                                                  \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error((env), NULL, "pixels addon: N-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* Rows r0 and r1 (r1 == r0 on an odd last row), pairs of columns, the odd last column counted twice. */
#define SUM_KERNEL(NAME, T)                                                                      \
  static void NAME(const T *src, size_t width, size_t height, size_t planes, int32_t *sums) {    \
    size_t out_rows = (height + 1) / 2, pairs = width / 2, o = 0;                                \
    for (size_t p = 0; p < planes; p++) {                                                        \
      const T *plane = src + p * width * height;                                                 \
      for (size_t oy = 0; oy < out_rows; oy++) {                                                 \
        const T *r0 = plane + 2 * oy * width;                                                    \
        const T *r1 = 2 * oy + 1 < height ? r0 + width : r0;                                     \
        int32_t *s = sums + o;                                                                   \
        for (size_t x = 0; x < pairs; x++)                                                       \
          s[x] = (int32_t)r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];                 \
        o += pairs;                                                                              \
        if (width & 1) sums[o++] = 2 * ((int32_t)r0[width - 1] + r1[width - 1]);                \
      }                                                                                          \
    }                                                                                            \
  }

/* Arithmetic shift floors, so +4 then >> 3 rounds half up for negative sums too (as the JS kernel does). */
#define PAIR_KERNEL(NAME, T)                                                                              \
  static void NAME(const int32_t *sums, const T *src, size_t width, size_t height, size_t planes, T *out) { \
    size_t out_rows = (height + 1) / 2, pairs = width / 2, o = 0;                                         \
    for (size_t p = 0; p < planes; p++) {                                                                 \
      const T *plane = src + p * width * height;                                                          \
      for (size_t oy = 0; oy < out_rows; oy++) {                                                          \
        const T *r0 = plane + 2 * oy * width;                                                             \
        const T *r1 = 2 * oy + 1 < height ? r0 + width : r0;                                              \
        const int32_t *s = sums + o;                                                                      \
        T *d = out + o;                                                                                   \
        for (size_t x = 0; x < pairs; x++)                                                                \
          d[x] = (T)((s[x] + r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 4) >> 3);           \
        o += pairs;                                                                                       \
        if (width & 1) {                                                                                  \
          out[o] = (T)((sums[o] + 2 * ((int32_t)r0[width - 1] + r1[width - 1]) + 4) >> 3);               \
          o++;                                                                                            \
        }                                                                                                 \
      }                                                                                                   \
    }                                                                                                     \
  }

SUM_KERNEL(sum_u8, uint8_t)
SUM_KERNEL(sum_i8, int8_t)
SUM_KERNEL(sum_u16, uint16_t)
SUM_KERNEL(sum_i16, int16_t)
PAIR_KERNEL(pair_u8, uint8_t)
PAIR_KERNEL(pair_i8, int8_t)
PAIR_KERNEL(pair_u16, uint16_t)
PAIR_KERNEL(pair_i16, int16_t)

typedef struct {
  napi_typedarray_type type;
  void *data;
  size_t length;
} typed_t;

static int get_typed(napi_env env, napi_value v, const char *field, typed_t *out) {
  bool is_typed = false;
  napi_value ab;
  size_t offset;
  char msg[96];
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &offset) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a typed array", field);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int get_shape(napi_env env, napi_value *argv, size_t *width, size_t *height, size_t *planes) {
  uint32_t w, h, p;
  if (napi_get_value_uint32(env, argv[0], &w) != napi_ok || napi_get_value_uint32(env, argv[1], &h) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &p) != napi_ok || w == 0 || h == 0 || p == 0) {
    napi_throw_range_error(env, NULL, "width, height and planes must be positive integers");
    return 0;
  }
  *width = w;
  *height = h;
  *planes = p;
  return 1;
}

static int is_small_int(napi_typedarray_type t) {
  return t == napi_uint8_array || t == napi_int8_array || t == napi_uint16_array || t == napi_int16_array;
}

/* The frame holds width*height*planes pixels; the sums and the output hold one per 2x2 block. */
static int check_lengths(napi_env env, const typed_t *src, const typed_t *sums, size_t w, size_t h, size_t p) {
  size_t blocks = ((w + 1) / 2) * ((h + 1) / 2) * p;
  if (!is_small_int(src->type)) {
    napi_throw_type_error(env, NULL, "src must be a Uint8Array, Int8Array, Uint16Array or Int16Array");
    return 0;
  }
  if (sums->type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "sums must be an Int32Array");
    return 0;
  }
  if (src->length < w * h * p || sums->length < blocks) {
    napi_throw_range_error(env, NULL, "src must hold width*height*planes pixels and sums one value per 2x2 block");
    return 0;
  }
  return 1;
}

/*
 * A tile of a frame copied into a segment buffer as a full tile (chunking/tiles.ts copyTile, compiled): rows of
 * `copy_bytes` from the frame (rows `src_row` apart, planes `src_plane` apart), each padded with zeros to
 * `tile_row` bytes, missing rows and planes zeroed, so that reused buffers never leak stale pixels.
 */
typedef struct {
  size_t src_start, src_row, src_plane;
  size_t region_planes, region_rows, copy_bytes;
  size_t dest_offset, tile_row, tile_rows, tile_planes;
} tile_copy_t;

static void copy_tile(const uint8_t *src, uint8_t *dest, const tile_copy_t *c) {
  size_t plane_bytes = c->tile_rows * c->tile_row;
  for (size_t p = 0; p < c->tile_planes; p++) {
    uint8_t *d = dest + c->dest_offset + p * plane_bytes;
    if (p >= c->region_planes) {
      memset(d, 0, plane_bytes);
      continue;
    }
    const uint8_t *s = src + c->src_start + p * c->src_plane;
    for (size_t r = 0; r < c->region_rows; r++, s += c->src_row, d += c->tile_row) {
      memcpy(d, s, c->copy_bytes);
      if (c->copy_bytes < c->tile_row) memset(d + c->copy_bytes, 0, c->tile_row - c->copy_bytes);
    }
    if (c->region_rows < c->tile_rows) memset(d, 0, (c->tile_rows - c->region_rows) * c->tile_row);
  }
}

/*
 * The kernels run off the main thread, on libuv's pool: the caller's typed arrays are read and written in place
 * (references keep them alive until the work completes), so a frame is reduced while the main thread goes on
 * moving tiles, with no copy. The caller must leave the arrays alone until the returned promise settles.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3];
  int nrefs;
  int pair; /* 0: sum2x2, 1: meanPair, 2: copyTile */
  napi_typedarray_type type;
  void *src, *sums, *out;
  size_t w, h, p;
  /* copyTiles: n copies, src[i] -> dest[i] (one allocation, freed with the job). */
  size_t ncopies;
  tile_copy_t *copies;
  uint8_t **srcs, **dests;
} job_t;

static void run_job(napi_env env, void *data) {
  job_t *j = data;
  (void)env;
  if (j->pair == 2) {
    for (size_t i = 0; i < j->ncopies; i++) copy_tile(j->srcs[i], j->dests[i], &j->copies[i]);
    return;
  }
  if (!j->pair) {
    switch (j->type) {
      case napi_uint8_array: sum_u8(j->src, j->w, j->h, j->p, j->sums); break;
      case napi_int8_array: sum_i8(j->src, j->w, j->h, j->p, j->sums); break;
      case napi_uint16_array: sum_u16(j->src, j->w, j->h, j->p, j->sums); break;
      default: sum_i16(j->src, j->w, j->h, j->p, j->sums); break;
    }
    return;
  }
  switch (j->type) {
    case napi_uint8_array: pair_u8(j->sums, j->src, j->w, j->h, j->p, j->out); break;
    case napi_int8_array: pair_i8(j->sums, j->src, j->w, j->h, j->p, j->out); break;
    case napi_uint16_array: pair_u16(j->sums, j->src, j->w, j->h, j->p, j->out); break;
    default: pair_i16(j->sums, j->src, j->w, j->h, j->p, j->out); break;
  }
}

static void finish_job(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_value result;
  for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
  if (status == napi_ok) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "pixels addon: the job was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  napi_delete_async_work(env, j->work);
  free(j->copies);
  free(j);
}

static napi_value queue_job(napi_env env, job_t *j, napi_value *arrays, int count) {
  napi_value promise, name;
  j->nrefs = 0;
  for (int i = 0; i < count; i++) {
    if (napi_create_reference(env, arrays[i], 1, &j->refs[i]) != napi_ok) goto fail;
    j->nrefs++;
  }
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) goto fail;
  j->work = NULL;
  if (napi_create_string_utf8(env, "zarr-stream:pixels", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, run_job, finish_job, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_value err, msg;
    if (j->work) napi_delete_async_work(env, j->work);
    napi_create_string_utf8(env, "pixels addon: could not queue the job", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
    for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
    free(j->copies);
    free(j);
    return promise;
  }
  return promise;
fail:
  for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
  free(j->copies);
  free(j);
  napi_throw_error(env, NULL, "pixels addon: N-API call failed while queueing a job");
  return NULL;
}

/* sum2x2Async(src, width, height, planes, sums) -> Promise<void> */
static napi_value Sum2x2Async(napi_env env, napi_callback_info info) {
  size_t argc = 5, w, h, p;
  napi_value argv[5];
  typed_t src, sums;
  job_t *j;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "sum2x2Async(src, width, height, planes, sums) needs 5 arguments");
    return NULL;
  }
  if (!get_typed(env, argv[0], "src", &src) || !get_shape(env, argv + 1, &w, &h, &p) ||
      !get_typed(env, argv[4], "sums", &sums) || !check_lengths(env, &src, &sums, w, h, p))
    return NULL;
  j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "pixels addon: out of memory");
    return NULL;
  }
  *j = (job_t){.pair = 0, .type = src.type, .src = src.data, .sums = sums.data, .w = w, .h = h, .p = p};
  napi_value arrays[2] = {argv[0], argv[4]};
  return queue_job(env, j, arrays, 2);
}

/* meanPairAsync(sums, src, width, height, planes, out) -> Promise<void> */
static napi_value MeanPairAsync(napi_env env, napi_callback_info info) {
  size_t argc = 6, w, h, p;
  napi_value argv[6];
  typed_t sums, src, out;
  job_t *j;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "meanPairAsync(sums, src, width, height, planes, out) needs 6 arguments");
    return NULL;
  }
  if (!get_typed(env, argv[0], "sums", &sums) || !get_typed(env, argv[1], "src", &src) ||
      !get_shape(env, argv + 2, &w, &h, &p) || !get_typed(env, argv[5], "out", &out) ||
      !check_lengths(env, &src, &sums, w, h, p))
    return NULL;
  if (out.type != src.type || out.length < ((w + 1) / 2) * ((h + 1) / 2) * p) {
    napi_throw_type_error(env, NULL, "out must be of src's type and hold one pixel per 2x2 block");
    return NULL;
  }
  j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "pixels addon: out of memory");
    return NULL;
  }
  *j = (job_t){.pair = 1, .type = src.type, .src = src.data, .sums = sums.data, .out = out.data, .w = w, .h = h, .p = p};
  napi_value arrays[3] = {argv[0], argv[1], argv[5]};
  return queue_job(env, j, arrays, 3);
}

/* A Uint8Array's bytes, or 0 with a TypeError thrown. */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  typed_t t;
  if (!get_typed(env, v, "copyTilesAsync: srcs and dests", &t)) return 0;
  if (t.type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "copyTilesAsync: srcs and dests must hold Uint8Arrays");
    return 0;
  }
  *data = t.data;
  *length = t.length;
  return 1;
}

/*
 * copyTilesAsync(srcs, dests, geometry) -> Promise<void>: tile i of frame srcs[i] into dests[i], all in one job on
 * libuv's pool (a job per tile costs the main thread a thread wake-up each). geometry: a Float64Array of 10 per
 * tile [srcStart, srcRowBytes, srcPlaneBytes, regionPlanes, regionRows, copyBytes, destOffset, tileRowBytes,
 * tileRows, tilePlanes]; every range is checked before anything is copied. The caller leaves the arrays (and the
 * srcs and dests lists) unchanged until the promise settles.
 */
static napi_value CopyTilesAsync(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  typed_t geometry;
  uint32_t n = 0, ndest = 0;
  bool is_array = false, is_dest_array = false;
  const double *g;
  job_t *j;
  char *block;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_is_array(env, argv[1], &is_dest_array) != napi_ok || !is_dest_array) {
    napi_throw_type_error(env, NULL, "copyTilesAsync(srcs, dests, geometry) needs two arrays and a Float64Array");
    return NULL;
  }
  CHECK(env, napi_get_array_length(env, argv[0], &n));
  CHECK(env, napi_get_array_length(env, argv[1], &ndest));
  if (!get_typed(env, argv[2], "geometry", &geometry)) return NULL;
  if (n == 0 || ndest != n || geometry.type != napi_float64_array || geometry.length < 10 * (size_t)n) {
    napi_throw_type_error(env, NULL, "copyTilesAsync: as many srcs as dests (at least one), and 10 geometry values per tile");
    return NULL;
  }
  j = calloc(1, sizeof *j);
  block = malloc(n * (sizeof(tile_copy_t) + 2 * sizeof(uint8_t *)));
  if (!j || !block) {
    free(j);
    free(block);
    napi_throw_error(env, NULL, "pixels addon: out of memory");
    return NULL;
  }
  j->pair = 2;
  j->ncopies = n;
  j->copies = (tile_copy_t *)block;
  j->srcs = (uint8_t **)(block + n * sizeof(tile_copy_t));
  j->dests = j->srcs + n;
  g = geometry.data;
  for (uint32_t i = 0; i < n; i++, g += 10) {
    napi_value src_v, dest_v;
    size_t src_len, dest_len;
    tile_copy_t *c = &j->copies[i];
    if (napi_get_element(env, argv[0], i, &src_v) != napi_ok || napi_get_element(env, argv[1], i, &dest_v) != napi_ok ||
        !get_bytes(env, src_v, &j->srcs[i], &src_len) || !get_bytes(env, dest_v, &j->dests[i], &dest_len))
      goto refuse;
    for (int k = 0; k < 10; k++) {
      if (!(g[k] >= 0 && g[k] <= 9007199254740991.0) || g[k] != (double)(size_t)g[k]) {
        napi_throw_range_error(env, NULL, "copyTilesAsync: geometry must hold non-negative integers");
        goto refuse;
      }
    }
    *c = (tile_copy_t){.src_start = (size_t)g[0], .src_row = (size_t)g[1], .src_plane = (size_t)g[2],
                       .region_planes = (size_t)g[3], .region_rows = (size_t)g[4], .copy_bytes = (size_t)g[5],
                       .dest_offset = (size_t)g[6], .tile_row = (size_t)g[7], .tile_rows = (size_t)g[8],
                       .tile_planes = (size_t)g[9]};
    if (c->copy_bytes > c->tile_row || c->region_rows > c->tile_rows || c->region_planes > c->tile_planes ||
        c->dest_offset + c->tile_planes * c->tile_rows * c->tile_row > dest_len ||
        (c->region_planes > 0 && c->region_rows > 0 &&
         c->src_start + (c->region_planes - 1) * c->src_plane + (c->region_rows - 1) * c->src_row + c->copy_bytes > src_len)) {
      napi_throw_range_error(env, NULL, "copyTilesAsync: a tile lies outside its src or dest");
      goto refuse;
    }
  }
  /* References to the two arrays keep every src and dest alive until the job completes. */
  return queue_job(env, j, argv, 2);
refuse:
  free(j->copies);
  free(j);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "copyTilesAsync", NAPI_AUTO_LENGTH, CopyTilesAsync, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "copyTilesAsync", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "sum2x2Async", NAPI_AUTO_LENGTH, Sum2x2Async, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sum2x2Async", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "meanPairAsync", NAPI_AUTO_LENGTH, MeanPairAsync, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "meanPairAsync", fn) != napi_ok) return NULL;
  return exports;
}
