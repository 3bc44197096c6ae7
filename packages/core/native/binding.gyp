{
  "targets": [
    {
      "target_name": "dlcv_native",
      "sources": [
        "src/binding.cc", "src/dnnl_ops.cc", "src/elementwise.cc", "src/unary.cc", "src/reduce.cc",
        "src/layout.cc", "src/pool.cc", "src/norm.cc", "src/adam.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lgomp"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-march=x86-64-v2", "-mtune=generic"],
          "libraries": ["-lmvec"]
        }]
      ]
    }
  ]
}
