{
  "variables": { "with_blosc%": 1 },
  "targets": [
    {
      "target_name": "pixels_addon",
      "sources": ["native/pixels_addon.c"],
      "cflags": ["-O3", "-Wall"],
      "defines": ["NAPI_VERSION=8"]
    }
  ],
  "conditions": [
    ["with_blosc==1", {
      "targets": [
        {
          "target_name": "blosc_addon",
          "sources": ["native/blosc_addon.c"],
          "libraries": ["-lblosc"],
          "cflags": ["-O2", "-Wall"],
          "defines": ["NAPI_VERSION=8"]
        }
      ]
    }]
  ]
}
