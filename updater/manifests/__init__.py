"""The pure core of manifest handling: parse YAML with positions (`yaml`), find where image
references live (`locate`), splice byte-minimal edits (`edit`), read kustomization paths
(`kustomization`). Text in, values out: no file, process or network I/O here."""
