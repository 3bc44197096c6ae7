// The face tests' reference (built by src/networks/dlib-hog.test.ts, not by the package): dlib's
// frontal face detector run through dlib's own calls end to end, as its face_detection_ex
// example does, on each PNG named on the command line: load_image (dlib's libpng reader),
// pyramid_up in place `upsample` times, the detector, and each box mapped back to the file's
// pixels with pyramid_down<2>::rect_down. Prints one line a file: its name, then left top right
// bottom of each face.
//
//   detect_faces_reference UPSAMPLE FILE...
#include <dlib/image_io.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: detect_faces_reference UPSAMPLE FILE...\n";
    return 2;
  }
  const unsigned upsample = static_cast<unsigned>(std::atoi(argv[1]));
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::pyramid_down<2> pyramid;
  for (int i = 2; i < argc; i++) {
    dlib::array2d<dlib::rgb_pixel> image;
    dlib::load_image(image, argv[i]);
    for (unsigned k = 0; k < upsample; k++) dlib::pyramid_up(image);
    std::cout << argv[i];
    for (const dlib::rectangle& face : detector(image)) {
      const dlib::rectangle box = upsample ? dlib::rectangle(pyramid.rect_down(face, upsample)) : face;
      std::cout << ' ' << box.left() << ' ' << box.top() << ' ' << box.right() << ' ' << box.bottom();
    }
    std::cout << '\n';
  }
  return 0;
}
