// The one shape of an asynchronous native call: work() on a libuv worker thread, then the promise is
// resolved with result() or rejected with a coded error (napi_util.h's one table) on the JS thread.
//
// A job can outlive its JS environment: worker.terminate() stops a worker thread's JS while a job
// runs, and Node completes the job during the environment's teardown, when no JS may run. The job is
// then dropped, never settled (settling would throw from inside Node's teardown and abort the
// process).
#pragma once

#include <napi.h>

#include <exception>
#include <string>

#include "napi_util.h"

namespace embedrt {

// Whether JS can run in env now (false while a terminated worker's environment is torn down). Raw
// Node-API, so that nothing throws when it cannot.
inline bool can_run_js(napi_env env) {
  napi_value object = nullptr, undefined = nullptr;
  return napi_create_object(env, &object) == napi_ok && napi_get_undefined(env, &undefined) == napi_ok &&
         napi_set_named_property(env, object, "probe", undefined) == napi_ok;
}

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the job; returns its promise.
  Napi::Promise start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  PromiseWorker(Napi::Env env, const char* name) : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  virtual void work() = 0;                        // worker thread: no JS values
  virtual Napi::Value result(Napi::Env env) = 0;  // JS thread

 private:
  void Execute() final {
    try {
      work();
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  void OnWorkComplete(Napi::Env env, napi_status status) final {
    if (status != napi_cancelled && can_run_js(env)) {
      try {
        Napi::HandleScope scope(env);
        settle(env);
      } catch (...) {
        // The environment went away while settling: nobody is left to tell.
      }
    }
    Destroy();
  }

  void settle(Napi::Env env) {
    if (error_) {
      const CodedMessage m = classify(error_);
      deferred_.Reject(make_error(env, m.code, m.message).Value());
      return;
    }
    try {
      deferred_.Resolve(result(env));
    } catch (...) {
      deferred_.Reject(error_from_current_exception(env).Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  std::exception_ptr error_;
};

}  // namespace embedrt
