{
  "targets": [
    {
      "target_name": "live_capture",
      "sources": ["native/live_capture.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lpcap"]
    }
  ]
}
