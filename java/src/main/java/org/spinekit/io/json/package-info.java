/** Strict JSON (RFC 8259) for the project's metadata files and safetensors headers. */
package org.spinekit.io.json;
