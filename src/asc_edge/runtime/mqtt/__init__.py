"""``asc-listen --mqtt``: every decision published to an MQTT broker, Home Assistant discovery, availability.

``target``: the URL and credentials, checked before anything starts; ``messages``: topics and JSON payloads;
``publisher``: the bounded, ordered, reconnecting queue (paho-mqtt, the ``mqtt`` extra); ``options``: the
command-line flags and the step that opens a publisher for ``asc-listen``.
"""
