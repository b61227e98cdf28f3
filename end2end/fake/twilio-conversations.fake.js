// A stand-in for Twilio's Conversations SDK in browser tests (the only fake: Twilio's
// servers cannot be reached here). It records every call and lets a test emit the SDK's
// events: window.__fakeTwilio.clients.at(-1).emit('tokenAboutToExpire').
(function () {
  'use strict';
  const state = (window.__fakeTwilio = { clients: [], conversations: {} });

  function identityOf(token) {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(payload), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
    );
    return JSON.parse(json).grants.identity;
  }

  class Emitter {
    constructor() {
      this.handlers = {};
    }
    on(event, handler) {
      (this.handlers[event] ||= []).push(handler);
      return this;
    }
    emit(event, payload) {
      for (const handler of this.handlers[event] || []) handler(payload);
    }
  }

  let sidCounter = 0;
  class Conversation extends Emitter {
    constructor(name) {
      super();
      this.sid = 'CH' + String(++sidCounter).padStart(32, '0');
      this.uniqueName = name;
      this.friendlyName = name;
      this.messages = [];
    }
    async join() {}
    async getMessages() {
      return { items: this.messages.slice() };
    }
    async sendMessage(body) {
      const message = { author: state.identity, body, index: this.messages.length };
      this.messages.push(message);
      this.emit('messageAdded', message);
      return message.index;
    }
  }

  class Client extends Emitter {
    constructor(token, options) {
      super();
      this.token = token;
      this.options = options;
      this.calls = [{ method: 'constructor', token }];
      this.isShutdown = false;
      state.identity = identityOf(token);
      state.clients.push(this);
      setTimeout(() => {
        this.emit('connectionStateChanged', 'connecting');
        this.emit('connectionStateChanged', 'connected');
        this.emit('initialized');
      }, 0);
    }
    async updateToken(token) {
      this.calls.push({ method: 'updateToken', token });
      this.token = token;
      return this;
    }
    async shutdown() {
      this.calls.push({ method: 'shutdown' });
      this.isShutdown = true;
    }
    async getSubscribedConversations() {
      return { items: Object.values(state.conversations) };
    }
    async getConversationByUniqueName(name) {
      if (state.conversations[name]) return state.conversations[name];
      const error = new Error('Not Found');
      error.code = 50350;
      throw error;
    }
    async createConversation(options) {
      const conversation = new Conversation(options.uniqueName);
      state.conversations[options.uniqueName] = conversation;
      this.emit('conversationAdded', conversation);
      return conversation;
    }
  }

  window.Twilio = { Conversations: { Client } };
})();
