// The face-recognition rate's detector as the assignment runs it: dlib's HOG frontal face
// detector (get_frontal_face_detector(), the serialized model in dlib's own headers), called
// the way face_recognition.face_locations(image) calls dlib's Python binding: the RGB image
// upsampled `upsample` times with pyramid_up (pyramid_down<2>), the detector at its default
// threshold (adjust_threshold 0) on the result, and each box mapped back to the image's
// coordinates with pyramid_down<2>::rect_down.
//
//   detectFaces(rgb: Uint8Array, width, height, upsample): Int32Array [left, top, right, bottom] * faces
//   info(): { dlib: "19.24.0" }
#include <node_api.h>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/revision.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct JsError : std::runtime_error {
  explicit JsError(const std::string& m) : std::runtime_error(m) {}
};

void check(napi_status s, const char* what) {
  if (s != napi_ok) throw JsError(std::string("napi call failed: ") + what);
}

// The detector is deserialized once. Its call is not const (its scanner keeps working buffers),
// so one detector serves one thread: the JavaScript thread that calls detectFaces.
dlib::frontal_face_detector& detector() {
  static dlib::frontal_face_detector d = dlib::get_frontal_face_detector();
  return d;
}

int64_t integerArg(napi_env env, napi_value v, const char* name, int64_t min) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != static_cast<double>(static_cast<int64_t>(d)) || d < static_cast<double>(min))
    throw JsError(std::string("detectFaces: ") + name + " must be an integer >= " + std::to_string(min));
  return static_cast<int64_t>(d);
}

std::vector<dlib::rectangle> detect(const uint8_t* rgb, long width, long height, unsigned upsample) {
  dlib::array2d<dlib::rgb_pixel> image(height, width);
  for (long y = 0; y < height; y++)
    for (long x = 0; x < width; x++) {
      const uint8_t* p = rgb + (y * width + x) * 3;
      image[y][x] = dlib::rgb_pixel(p[0], p[1], p[2]);
    }
  std::vector<dlib::rect_detection> found;
  if (upsample == 0) {
    detector()(image, found, 0.0);
  } else {
    dlib::pyramid_down<2> pyramid;
    dlib::array2d<dlib::rgb_pixel> larger;
    dlib::pyramid_up(image, larger, pyramid);
    for (unsigned i = 1; i < upsample; i++) dlib::pyramid_up(larger);
    detector()(larger, found, 0.0);
    for (auto& f : found) f.rect = pyramid.rect_down(f.rect, upsample);
  }
  std::vector<dlib::rectangle> boxes;
  boxes.reserve(found.size());
  for (const auto& f : found) boxes.push_back(f.rect);
  return boxes;
}

napi_value DetectFaces(napi_env env, napi_callback_info info) {
  try {
    size_t argc = 4;
    napi_value argv[4];
    check(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "get_cb_info");
    if (argc != 4) throw JsError("detectFaces(rgb, width, height, upsample) takes 4 arguments");
    bool typed;
    check(napi_is_typedarray(env, argv[0], &typed), "is_typedarray");
    if (!typed) throw JsError("detectFaces: rgb must be a Uint8Array");
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    napi_value buffer;
    check(napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset), "get_typedarray_info");
    if (type != napi_uint8_array) throw JsError("detectFaces: rgb must be a Uint8Array");
    int64_t width = integerArg(env, argv[1], "width", 1), height = integerArg(env, argv[2], "height", 1);
    int64_t upsample = integerArg(env, argv[3], "upsample", 0);
    if (upsample > 4) throw JsError("detectFaces: upsample must be at most 4");
    if (static_cast<uint64_t>(width) * static_cast<uint64_t>(height) * 3 != length)
      throw JsError("detectFaces: rgb holds " + std::to_string(length) + " bytes, not width * height * 3 = " + std::to_string(width * height * 3));
    auto boxes = detect(static_cast<const uint8_t*>(data), static_cast<long>(width), static_cast<long>(height), static_cast<unsigned>(upsample));
    napi_value out, array;
    check(napi_create_arraybuffer(env, boxes.size() * 4 * sizeof(int32_t), &data, &array), "create_arraybuffer");
    auto* v = static_cast<int32_t*>(data);
    for (size_t i = 0; i < boxes.size(); i++) {
      v[4 * i] = static_cast<int32_t>(boxes[i].left());
      v[4 * i + 1] = static_cast<int32_t>(boxes[i].top());
      v[4 * i + 2] = static_cast<int32_t>(boxes[i].right());
      v[4 * i + 3] = static_cast<int32_t>(boxes[i].bottom());
    }
    check(napi_create_typedarray(env, napi_int32_array, boxes.size() * 4, array, 0, &out), "create_typedarray");
    return out;
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, version;
  std::string v = std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION) + "." + std::to_string(DLIB_PATCH_VERSION);
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, v.c_str(), v.size(), &version);
  napi_set_named_property(env, obj, "dlib", version);
  return obj;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"detectFaces", nullptr, DetectFaces, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}
