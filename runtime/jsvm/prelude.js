// The part of ubgo's server API that is plain JavaScript. It is compiled once and evaluated
// first in every runtime, before any model code; the value of the expression is handed to
// Go, which builds App, UB, Session and the entity namespaces on top of it.
(function () {
  'use strict'

  const hasOwn = Object.prototype.hasOwnProperty

  // listenersOf returns the listener entries ({listener, once}) of an event, creating the
  // list when create is set. Lists live in a non-enumerable own "_events" object (those
  // of Symbol-named events in "_symEvents"), so that Object.assign(target,
  // EventEmitter.prototype) (what UnityBase does for entity namespaces) gives every target
  // a registry of its own. App's "_events" is made by Go and stays for the runtime's life:
  // the server reads it before every endpoint call.
  function listenersOf (emitter, name, create) {
    let events = registryOf(emitter, registryKey(name))
    if (!events) {
      if (!create) return undefined
      events = Object.create(null)
      Object.defineProperty(emitter, registryKey(name), { value: events, writable: true, configurable: true })
    }
    let list = events[name]
    if (!list && create) {
      list = events[name] = []
    }
    return list
  }

  function registryKey (name) { return typeof name === 'symbol' ? '_symEvents' : '_events' }
  function registryOf (emitter, key) { return hasOwn.call(emitter, key) ? emitter[key] : undefined }

  function addListener (emitter, name, listener, prepend, once) {
    if (typeof listener !== 'function') {
      throw new TypeError('The "listener" argument must be a function, got ' + typeof listener)
    }
    const list = listenersOf(emitter, name, true)
    const entry = { listener, once }
    if (prepend) {
      list.unshift(entry)
    } else {
      list.push(entry)
    }
    return emitter
  }

  function removeEntry (emitter, name, match) {
    const list = listenersOf(emitter, name, false)
    if (!list) return
    // Like Node, remove the most recently added matching listener.
    for (let i = list.length - 1; i >= 0; i--) {
      if (match(list[i])) {
        list.splice(i, 1)
        return
      }
    }
  }

  /**
   * Node-compatible event emitter: listeners run synchronously, in registration order
   * (prependListener puts one first); a listener that throws stops the emit and the
   * exception reaches the emitter's caller. Methods are enumerable prototype properties,
   * as in Node, so Object.assign(obj, EventEmitter.prototype) works.
   */
  function EventEmitter () {
    if (!(this instanceof EventEmitter)) return new EventEmitter()
  }
  const proto = EventEmitter.prototype
  proto.on = function (name, listener) { return addListener(this, name, listener, false, false) }
  proto.addListener = proto.on
  proto.prependListener = function (name, listener) { return addListener(this, name, listener, true, false) }
  proto.once = function (name, listener) { return addListener(this, name, listener, false, true) }
  proto.prependOnceListener = function (name, listener) { return addListener(this, name, listener, true, true) }
  proto.removeListener = function (name, listener) {
    removeEntry(this, name, e => e.listener === listener)
    return this
  }
  proto.off = proto.removeListener
  proto.removeAllListeners = function (name) {
    if (name === undefined) {
      // Emptied in place rather than replaced: App's registry cannot be replaced.
      for (const key of ['_events', '_symEvents']) {
        const events = registryOf(this, key)
        if (events) {
          for (const n of Reflect.ownKeys(events)) delete events[n]
        }
      }
    } else {
      const events = registryOf(this, registryKey(name))
      if (events) delete events[name]
    }
    return this
  }
  proto.emit = function (name, ...args) {
    const list = listenersOf(this, name, false)
    if (!list || list.length === 0) {
      if (name === 'error') {
        throw args[0] instanceof Error ? args[0] : new Error('Unhandled "error" event')
      }
      return false
    }
    // A copy: listeners added or removed by a listener do not change this emit. (An
    // index loop: for..of costs an iterator object per step in goja.)
    const copy = list.slice()
    for (let i = 0; i < copy.length; i++) {
      const entry = copy[i]
      if (entry.once) removeEntry(this, name, e => e === entry)
      entry.listener.apply(this, args)
    }
    return true
  }
  proto.listeners = function (name) {
    const list = listenersOf(this, name, false)
    return list ? list.map(e => e.listener) : []
  }
  proto.listenerCount = function (name) {
    const list = listenersOf(this, name, false)
    return list ? list.length : 0
  }
  proto.eventNames = function () {
    if (!hasOwn.call(this, '_events') || !this._events) return []
    return Object.keys(this._events).filter(n => this._events[n].length > 0)
  }
  proto.setMaxListeners = function () { return this }
  proto.getMaxListeners = function () { return Infinity }
  EventEmitter.EventEmitter = EventEmitter
  EventEmitter.defaultMaxListeners = Infinity

  /**
   * Server-side abort (reference §7.4): a handled error. The text inside <<<...>>> is shown
   * to the user; format arguments are appended as JSON:
   * new UBAbort('<<<file_not_found>>>', 'x') has the message '<<<file_not_found>>>|["x"]'.
   */
  class UBAbort extends Error {
    constructor (message, ...args) {
      let msg = (message === undefined || message === null || message === '') ? 'UBAbortError' : String(message)
      if (args.length > 0) msg += '|' + JSON.stringify(args)
      super(msg)
      this.code = 'UBAbort'
      this.errorNumber = 1002
    }
  }
  Object.defineProperty(UBAbort.prototype, 'name', { value: 'UBAbort', writable: true, configurable: true })

  /** Security violation: the client gets 403 "Access deny" (errCode 8). */
  class ESecurityException extends Error {
    constructor (reason) {
      super((reason === undefined || reason === null || reason === '') ? 'ESecurityException' : String(reason))
      this.code = 'ESecurityException'
    }
  }
  Object.defineProperty(ESecurityException.prototype, 'name', { value: 'ESecurityException', writable: true, configurable: true })

  function deepFreeze (o) {
    if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
      Object.freeze(o)
      for (const k of Object.keys(o)) deepFreeze(o[k])
    }
    return o
  }

  // LocalDataStore.selectResultToArrayOfObjects of @unitybase/cs-shared.
  function selectResultToArrayOfObjects (res, fieldAliases) {
    const rd = res && res.resultData ? res.resultData : res
    const fields = (rd.fields || []).map(f => (fieldAliases && hasOwn.call(fieldAliases, f)) ? fieldAliases[f] : f)
    return (rd.data || []).map(row => {
      const obj = {}
      for (let i = 0; i < fields.length; i++) obj[fields[i]] = row[i]
      return obj
    })
  }

  // UB.ns('A.B') creates nested global namespaces (deprecated in UnityBase, kept for old code).
  function ns (namespacePath) {
    let root = globalThis
    for (const part of String(namespacePath).split('.')) {
      if (!root[part]) root[part] = {}
      root = root[part]
    }
    return root
  }

  return { EventEmitter, UBAbort, ESecurityException, deepFreeze, selectResultToArrayOfObjects, ns }
})()
