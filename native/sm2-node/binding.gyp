{
  "targets": [
    {
      "target_name": "sm2_node",
      "sources": ["src/sm2_node.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11"],
      "defines": ["OPENSSL_SUPPRESS_DEPRECATED", "NAPI_VERSION=8"]
    }
  ]
}
