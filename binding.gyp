{
  "targets": [
    {
      "target_name": "blosc_addon",
      "sources": ["native/blosc_addon.c"],
      "libraries": ["-lblosc"],
      "cflags": ["-O2", "-Wall"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
