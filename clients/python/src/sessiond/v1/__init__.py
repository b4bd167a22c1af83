"""Protocol buffer messages of ``sessiond.v1``, generated from ``proto/``.

``sessiond_pb2.py`` and its ``.pyi`` are made by ``grpcio-tools`` (see the
package README); never edit them by hand.
"""
