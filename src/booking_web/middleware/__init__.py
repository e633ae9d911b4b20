"""Pure ASGI middleware: cheap on every request, and streaming-safe."""
